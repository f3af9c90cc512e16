module.exports = {
  ...require('../../jest.preset.js'),
  displayName: 'redis-storage',
  rootDir: __dirname,
};
