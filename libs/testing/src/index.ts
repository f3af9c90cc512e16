export { freePort, accepts, waitForPort, waitFor } from './ports';
export { Pm2Sandbox } from './pm2-sandbox';
export type { Pm2AppState } from './pm2-sandbox';
export { loadConcurrentTrace, TEXT } from './concurrent-trace';
export type { ReplayStep, ReplayTrace } from './concurrent-trace';
export { repoRoot, traceDataPath, seedClientPath } from './shared-data';
export { makeTestCertificates, TEST_SERVER_NAMES } from './test-certificates';
export type { TestCertificates } from './test-certificates';
