import { describe, expect, it } from 'vitest';
import { EventEmitter } from 'node:events';
import { ConnectionErrors, QUIET_MS } from '../../src/runtime/queues/connection-errors.js';
import { memoryLogger } from '../helpers.js';

describe('ConnectionErrors', () => {
  it('logs the first error of each kind at once, then one summary per quiet period with the count', () => {
    let now = 0;
    const logger = memoryLogger();
    const errors = new ConnectionErrors(logger, () => now);
    const a = new EventEmitter();
    const b = new EventEmitter();
    errors.watchRedis(a as never, 'commands');
    errors.watch(b, 'worker w', 'worker error on w');
    for (let i = 0; i < 50; i++) {
      a.emit('error', new Error('connect ECONNREFUSED'));
      b.emit('error', new Error('connect ECONNREFUSED'));
      now += 1000;
    }
    // 50 s of errors: one line each at once, one summary each after 30 s.
    expect(logger.lines).toEqual([
      'error Redis connection error; retrying',
      'error worker error on w',
      `error Redis connection error; retrying (30 more in the last ${QUIET_MS / 1000} s)`,
      `error worker error on w (30 more in the last ${QUIET_MS / 1000} s)`,
    ]);
    a.emit('ready');
    expect(logger.lines.at(-1)).toBe('warn Redis connection restored');
    a.emit('error', new Error('again'));
    expect(logger.lines.at(-1)).toBe('error Redis connection error; retrying');
  });

  it('treats an error after a quiet period as a new outage', () => {
    let now = 0;
    const logger = memoryLogger();
    const errors = new ConnectionErrors(logger, () => now);
    errors.report({ kind: 'k', message: 'm', err: new Error('x'), extra: {} });
    now += QUIET_MS;
    errors.report({ kind: 'k', message: 'm', err: new Error('x'), extra: {} });
    expect(logger.lines).toEqual(['error m', 'error m']);
  });
});
