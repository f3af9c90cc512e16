import { getSystemErrorMap, types } from 'node:util';

/** 'ECONNREFUSED connection refused': the code for scripts plus libuv's own words for people. */
export function describeSystemError(err: unknown): string {
  // isNativeError too: errors made by node's own realm fail instanceof inside vm contexts such as Jest's.
  if (!(err instanceof Error || types.isNativeError(err))) return String(err);
  const { code, errno, message } = err as NodeJS.ErrnoException;
  const entry = typeof errno === 'number' ? getSystemErrorMap().get(errno) : undefined;
  if (entry !== undefined) return `${entry[0]} ${entry[1]}`;
  // OpenSSL errors carry a long 'hex:error:lib:func:reason:file:line' message; `reason` alone reads well.
  const { reason } = err as { reason?: unknown };
  if (typeof reason === 'string' && reason !== '' && code !== undefined) return `${code} ${reason}`;
  return code !== undefined && !message.includes(code) ? `${code} ${message}` : message;
}
