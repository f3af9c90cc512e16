// CI's short runs of the fuzz targets (fuzz/test/*.fuzz.spec.ts); the long runs are `npm run fuzz`.
module.exports = {
  ...require('../jest.preset.js'),
  displayName: 'fuzz',
  rootDir: __dirname,
  testMatch: ['<rootDir>/test/**/*.spec.ts'],
};
