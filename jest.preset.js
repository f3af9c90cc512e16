// Shared Jest settings for every project: swc for speed, @collab/* aliases mapped to sources.
const path = require('node:path');

const root = __dirname;
const libs = ['cli', 'framing', 'address', 'logging', 'persistence', 'collab-protocol'];

module.exports = {
  testEnvironment: 'node',
  transform: {
    '^.+\\.[tj]s$': [require.resolve('@swc/jest'), { jsc: { target: 'es2022', parser: { syntax: 'typescript' } } }],
  },
  moduleFileExtensions: ['ts', 'js', 'json'],
  testMatch: ['**/?(*.)+(spec|test).ts'],
  moduleNameMapper: Object.fromEntries(
    libs.map((name) => [`^@collab/${name}$`, path.join(root, 'libs', name, 'src', 'index.ts')]),
  ),
  reporters: ['default', path.join(root, 'tools', 'jest-summary-reporter.js')],
};
