module.exports = {
  ...require('../../jest.preset.js'),
  displayName: 'framing',
  rootDir: __dirname,
};
