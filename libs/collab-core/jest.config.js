module.exports = {
  ...require('../../jest.preset.js'),
  displayName: 'collab-core',
  rootDir: __dirname,
};
