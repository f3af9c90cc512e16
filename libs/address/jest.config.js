module.exports = {
  ...require('../../jest.preset.js'),
  displayName: 'address',
  rootDir: __dirname,
};
