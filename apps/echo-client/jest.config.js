module.exports = {
  ...require('../../jest.preset.js'),
  displayName: 'echo-client',
  rootDir: __dirname,
};
