export { ExitCode } from './exit-codes';
export { integerIn, secondsIn, port, onOff } from './option-parsers';
export { configureProgram, runProgram, UserFacingError } from './run-program';
export type { UserFacingErrorOptions } from './run-program';
export { VERSION } from './version';
export { onShutdownSignal } from './shutdown-signals';
