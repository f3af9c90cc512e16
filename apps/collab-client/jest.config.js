module.exports = {
  ...require('../../jest.preset.js'),
  displayName: 'collab-client',
  rootDir: __dirname,
};
