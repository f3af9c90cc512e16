// Shared Jest settings for every project: swc for speed, @collab/* aliases mapped to sources.
const path = require('node:path');

const root = __dirname;

// Every collab-server a test starts opens its web port too, 8090 unless told otherwise: tests that
// run at once (and a server the developer runs) would fight over it. Any free port instead, for
// every server the tests start, unless the test names one (this runs before Jest's workers start,
// so they and the processes they spawn inherit it).
process.env.COLLAB_WS_PORT ??= '0';
const libs = ['cli', 'testing', 'framing', 'address', 'logging', 'persistence', 'collab-protocol', 'collab-core', 'redis-storage'];

module.exports = {
  testEnvironment: 'node',
  transform: {
    '^.+\\.m?[tj]s$': [require.resolve('@swc/jest'), { jsc: { target: 'es2022', parser: { syntax: 'typescript' } } }],
  },
  moduleFileExtensions: ['ts', 'js', 'mjs', 'json'],
  // ESM-only packages the client uses; swc turns them into CommonJS for Jest.
  transformIgnorePatterns: ['/node_modules/(?!(string-width|get-east-asian-width|strip-ansi|ansi-regex)/)'],
  testMatch: ['**/?(*.)+(spec|test).ts'],
  moduleNameMapper: {
    ...Object.fromEntries(libs.map((name) => [`^@collab/${name}$`, path.join(root, 'libs', name, 'src', 'index.ts')])),
    // Test doubles a library offers to tests only (never to shipped code).
    ...Object.fromEntries(libs.map((name) => [`^@collab/${name}/testing$`, path.join(root, 'libs', name, 'src', 'testing.ts')])),
  },
  reporters: ['default', path.join(root, 'tools', 'jest-summary-reporter.js')],
  // For tests and hooks that name no timeout of their own: many start real processes (servers,
  // redis-server, a browser), which takes seconds on a busy machine, more than Jest's default 5 s.
  testTimeout: 30_000,
};
