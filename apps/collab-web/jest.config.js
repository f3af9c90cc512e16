module.exports = {
  ...require('../../jest.preset.js'),
  displayName: 'collab-web',
  rootDir: __dirname,
};
