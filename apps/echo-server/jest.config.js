module.exports = {
  ...require('../../jest.preset.js'),
  displayName: 'echo-server',
  rootDir: __dirname,
};
