module.exports = {
  ...require('../../jest.preset.js'),
  displayName: 'collab-server',
  rootDir: __dirname,
};
