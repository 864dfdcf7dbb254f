/**
 * Engine options as the spec types them: `const engineConfig: EngineConfig = { ...some options }`,
 * and `getConfig()` with every default filled in.
 */
import { describe, expectTypeOf, it } from 'vitest';
import type { EngineConfig, EngineConfigInput, ResolvedEngineConfig, WorkflowEngine } from '../../src/index.js';

describe('EngineConfig', () => {
  it('takes any subset of the options, as the spec writes them', () => {
    const threads: EngineConfig = { useWorkerThreads: true, workerConcurrency: 10 };
    const limited: EngineConfig = { useNativeRateLimiting: true, rateLimiter: { max: 50, duration: 1000 } };
    const custom: EngineConfig = { useWorkerThreads: true, processorFile: '/path/to/my-custom-processor.js' };
    const none: EngineConfig = {};
    expectTypeOf([threads, limited, custom, none]).toEqualTypeOf<EngineConfig[]>();
    expectTypeOf<EngineConfigInput>().toEqualTypeOf<EngineConfig>();
  });

  it('refuses unknown options and ill-typed values', () => {
    // @ts-expect-error: not an option
    const unknown: EngineConfig = { workerThreads: true };
    // @ts-expect-error: a number, not a string
    const wrong: EngineConfig = { workerConcurrency: '10' };
    expectTypeOf([unknown, wrong]).toEqualTypeOf<EngineConfig[]>();
  });

  it('getConfig() returns every option with its default', () => {
    expectTypeOf<ReturnType<WorkflowEngine['getConfig']>>().toEqualTypeOf<ResolvedEngineConfig>();
    expectTypeOf<ResolvedEngineConfig['workerConcurrency']>().toEqualTypeOf<number>();
    expectTypeOf<ResolvedEngineConfig['useWorkerThreads']>().toEqualTypeOf<boolean>();
  });
});
