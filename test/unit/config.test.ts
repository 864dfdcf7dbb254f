import { describe, expect, it } from 'vitest';
import { resolveEngineConfig } from '../../src/runtime/engine/config.js';
import { eagerChainSettings } from '../../src/runtime/execution/eager.js';
import { InvalidConfigError, SpaneError } from '../../src/errors.js';

function configError(input: unknown): InvalidConfigError {
  try {
    resolveEngineConfig(input);
  } catch (err) {
    expect(err).toBeInstanceOf(InvalidConfigError);
    return err as InvalidConfigError;
  }
  throw new Error(`expected resolveEngineConfig(${JSON.stringify(input)}) to throw`);
}

describe('resolveEngineConfig: defaults', () => {
  const expected = {
    useFlowProducerForSubWorkflows: false,
    useNativeRateLimiting: false,
    useJobSchedulers: true,
    useWorkerThreads: false,
    useSimplifiedEventStream: false,
    events: true,
    workerConcurrency: 5,
    prefix: '{spane}',
    redisTimeout: 5000,
    lockDuration: 30_000,
    stalledInterval: 30_000,
    maxStalledCount: 3,
    payloadThresholdBytes: 50 * 1024,
    removeOnComplete: { count: 1000, age: 3600 },
    removeOnFail: { count: 5000, age: 7 * 24 * 3600 },
    reconcileIntervalMs: 30_000,
    reconcileGraceMs: 30_000,
    reconcileBatchSize: 1000,
    eagerChains: true,
  };

  it('fills in every default for an empty config', () => {
    expect(resolveEngineConfig({})).toEqual(expected);
  });

  it('treats undefined and null as an empty config', () => {
    expect(resolveEngineConfig()).toEqual(expected);
    expect(resolveEngineConfig(undefined)).toEqual(expected);
    expect(resolveEngineConfig(null)).toEqual(expected);
  });

  it('has no rateLimiter or processorFile by default', () => {
    const c = resolveEngineConfig({});
    expect(c.rateLimiter).toBeUndefined();
    expect(c.processorFile).toBeUndefined();
  });

  it('keeps given values and fills in the rest', () => {
    const c = resolveEngineConfig({ workerConcurrency: 12, prefix: '{mine}', useJobSchedulers: false, removeOnComplete: { count: 1, age: 2 } });
    expect(c.workerConcurrency).toBe(12);
    expect(c.prefix).toBe('{mine}');
    expect(c.useJobSchedulers).toBe(false);
    expect(c.removeOnComplete).toEqual({ count: 1, age: 2 });
    expect(c.removeOnFail).toEqual(expected.removeOnFail);
    expect(c.lockDuration).toBe(30_000);
  });

  it('accepts the unavailable flags when explicitly false', () => {
    const c = resolveEngineConfig({ useFlowProducerForSubWorkflows: false, useWorkerThreads: false, useSimplifiedEventStream: false });
    expect(c.useWorkerThreads).toBe(false);
  });

  it('accepts rateLimiter together with useNativeRateLimiting', () => {
    const c = resolveEngineConfig({ useNativeRateLimiting: true, rateLimiter: { max: 10, duration: 1000 } });
    expect(c.useNativeRateLimiting).toBe(true);
    expect(c.rateLimiter).toEqual({ max: 10, duration: 1000 });
  });

  it('does not mutate its input', () => {
    const input = { workerConcurrency: 3 };
    resolveEngineConfig(input);
    expect(input).toEqual({ workerConcurrency: 3 });
  });
});

describe('resolveEngineConfig: refused options', () => {
  it('refuses an unknown option, naming the key', () => {
    const err = configError({ workerConcurency: 5 });
    expect(err.code).toBe('INVALID_CONFIG');
    expect(err).toBeInstanceOf(SpaneError);
    expect(err.message).toContain("unknown option 'workerConcurency'");
  });

  it('names every unknown key', () => {
    const err = configError({ foo: 1, bar: 2 });
    expect(err.message).toContain("unknown options 'foo', 'bar'");
  });

  it.each([['5'], [0], [1.5], [-1], [10_001]])('refuses workerConcurrency %j, naming the field', (value) => {
    const err = configError({ workerConcurrency: value });
    expect(err.message).toMatch(/workerConcurrency: /);
    expect(err.code).toBe('INVALID_CONFIG');
  });

  it('names nested fields with a dotted path', () => {
    const err = configError({ removeOnFail: { count: -1, age: 10 } });
    expect(err.message).toContain('removeOnFail.count: ');
  });

  it('refuses a boolean flag of the wrong type', () => {
    expect(configError({ useNativeRateLimiting: 'yes' }).message).toContain('useNativeRateLimiting: ');
  });

  it("refuses a prefix containing ':'", () => {
    const err = configError({ prefix: 'spane:prod' });
    expect(err.message).toContain('prefix: must not contain ":"');
  });

  it('refuses an empty prefix', () => {
    expect(configError({ prefix: '' }).message).toContain('prefix: ');
  });

  it('refuses rateLimiter without useNativeRateLimiting', () => {
    const err = configError({ rateLimiter: { max: 10, duration: 1000 } });
    expect(err.message).toContain('rateLimiter');
    expect(err.message).toContain('useNativeRateLimiting');
    expect(() => resolveEngineConfig({ useNativeRateLimiting: false, rateLimiter: { max: 1, duration: 1 } })).toThrow(InvalidConfigError);
  });

  it('lists several problems in one error and keeps the zod error as cause', () => {
    const err = configError({ workerConcurrency: 0, prefix: 'a:b', nope: true });
    expect(err.message).toContain("'nope'");
    expect(err.message).toContain('workerConcurrency: ');
    expect(err.message).toContain('prefix: ');
    expect(err.cause).toBeDefined();
  });

  it('refuses a non-object config', () => {
    expect(configError(5).message).toContain('(config): ');
  });

  it('accepts useFlowProducerForSubWorkflows: true', () => {
    expect(resolveEngineConfig({ useFlowProducerForSubWorkflows: true }).useFlowProducerForSubWorkflows).toBe(true);
  });

  it('accepts useSimplifiedEventStream: true', () => {
    expect(resolveEngineConfig({ useSimplifiedEventStream: true }).useSimplifiedEventStream).toBe(true);
  });

  it('accepts worker-thread options', () => {
    const c = resolveEngineConfig({ useWorkerThreads: true, executorsModule: './executors.js', workerThreadsOptions: { resourceLimits: { maxOldGenerationSizeMb: 64 } } });
    expect(c.useWorkerThreads).toBe(true);
    expect(c.executorsModule).toBe('./executors.js');
    expect(c.workerThreadsOptions?.resourceLimits).toEqual({ maxOldGenerationSizeMb: 64 });
  });
});

describe('resolveEngineConfig: eagerChains', () => {
  it('accepts a boolean or { maxLength } and says how chains apply', () => {
    expect(eagerChainSettings(resolveEngineConfig({}))).toEqual({ byDefault: true, maxLength: 32 });
    expect(eagerChainSettings(resolveEngineConfig({ eagerChains: false }))).toEqual({ byDefault: false, maxLength: 32 });
    expect(eagerChainSettings(resolveEngineConfig({ eagerChains: true }))).toEqual({ byDefault: true, maxLength: 32 });
    expect(eagerChainSettings(resolveEngineConfig({ eagerChains: { maxLength: 4 } }))).toEqual({ byDefault: true, maxLength: 4 });
    expect(eagerChainSettings(resolveEngineConfig({ eagerChains: {} }))).toEqual({ byDefault: true, maxLength: 32 });
  });

  it('turns chains off with worker threads and the native rate limiter', () => {
    expect(eagerChainSettings(resolveEngineConfig({ eagerChains: true, useWorkerThreads: true }))).toBeUndefined();
    expect(eagerChainSettings(resolveEngineConfig({ eagerChains: true, useNativeRateLimiting: true }))).toBeUndefined();
  });

  it('refuses other values with an InvalidConfigError naming the option', () => {
    for (const eagerChains of ['yes', 1, { maxLength: 0 }, { maxLength: 1.5 }, { maxLength: 3, extra: true }]) {
      expect(configError({ eagerChains }).message).toContain('eagerChains');
    }
  });
});
