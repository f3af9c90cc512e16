import { PassThrough } from 'node:stream';
import { createLogger, parseLogLevel, shorten, InvalidLogLevelError } from './index';

function capture(level?: string) {
  const stream = new PassThrough();
  const lines: string[] = [];
  stream.on('data', (chunk: Buffer) => lines.push(...chunk.toString().split('\n').filter(Boolean)));
  return { logger: createLogger({ level, stream }), lines };
}

describe('createLogger', () => {
  it('writes [LEVEL] message lines as the assignment shows them', async () => {
    const { logger, lines } = capture('info');
    logger.info('Server listening on port 8080');
    logger.warn('Server full. Rejected connection from 127.0.0.1');
    logger.update('Document updated by 127.0.0.1: hello');
    logger.error('Error opening file temp.txt');
    await logger.close();
    expect(lines).toEqual([
      '[INFO] Server listening on port 8080',
      '[WARN] Server full. Rejected connection from 127.0.0.1',
      '[UPDATE] Document updated by 127.0.0.1: hello',
      '[ERROR] Error opening file temp.txt',
    ]);
  });

  it('drops messages below the chosen level', async () => {
    const { logger, lines } = capture('warn');
    logger.info('hidden');
    logger.debug('hidden too');
    logger.warn('shown');
    expect(logger.isEnabled('info')).toBe(false);
    expect(logger.isEnabled('warn')).toBe(true);
    await logger.close();
    expect(lines).toEqual(['[WARN] shown']);
  });

  it('takes the level from LOG_LEVEL when no option is given', async () => {
    const before = process.env.LOG_LEVEL;
    process.env.LOG_LEVEL = 'debug';
    try {
      const { logger, lines } = capture();
      logger.debug('visible');
      await logger.close();
      expect(lines).toEqual(['[DEBUG] visible']);
    } finally {
      if (before === undefined) delete process.env.LOG_LEVEL;
      else process.env.LOG_LEVEL = before;
    }
  });

  it('close() is idempotent and later messages are ignored', async () => {
    const { logger, lines } = capture('info');
    await logger.close();
    await logger.close();
    logger.info('after close');
    expect(lines).toEqual([]);
  });
});

describe('parseLogLevel', () => {
  it('accepts any case', () => {
    expect(parseLogLevel('WARN')).toBe('warn');
  });

  it('rejects an unknown level with the allowed names', () => {
    expect(() => parseLogLevel('loud')).toThrow(InvalidLogLevelError);
    expect(() => parseLogLevel('loud')).toThrow(/error, warn, info, update, debug/);
    try {
      parseLogLevel('loud');
    } catch (e) {
      expect((e as InvalidLogLevelError).code).toBe('COLLAB_ERR_LOG_LEVEL');
    }
  });
});

describe('shorten', () => {
  it('keeps short text as it is', () => {
    expect(shorten('hello')).toBe('hello');
  });

  it('cuts long text with an ellipsis and flattens newlines', () => {
    const out = shorten(`${'a'.repeat(100)}\nb`, 20);
    expect(out).toHaveLength(20);
    expect(out.endsWith('…')).toBe(true);
    expect(shorten('a\nb')).toBe('a\\nb');
  });
});
