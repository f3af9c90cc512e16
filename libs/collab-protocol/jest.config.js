module.exports = {
  ...require('../../jest.preset.js'),
  displayName: 'collab-protocol',
  rootDir: __dirname,
};
