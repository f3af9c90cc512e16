// Test doubles of @collab/persistence, for tests only (never imported by shipped code):
// `import { FaultyFs } from '@collab/persistence/testing'`.
export { FaultyFs } from './faulty-fs';
export type { Fault, FaultyOp } from './faulty-fs';
