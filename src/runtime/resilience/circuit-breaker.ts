import { BrokenCircuitError, CircuitState, ConsecutiveBreaker, circuitBreaker, handleAll } from 'cockatiel';
import type { CircuitBreakerPolicy } from 'cockatiel';
import type { CircuitBreakerConfig } from '../../definition/types.js';
import { CircuitOpenError } from '../../errors.js';

/** Breaker settings with defaults filled in. */
export type CircuitBreakerOptions = Required<CircuitBreakerConfig>;

/** Defaults: open after 5 consecutive failures, try again after 60 s, close after 2 successes. */
export const DEFAULT_CIRCUIT_BREAKER_OPTIONS: CircuitBreakerOptions = { failureThreshold: 5, successThreshold: 2, timeout: 60_000 };

/** What {@link CircuitBreakerRegistry.getAllStats} reports per breaker. */
export interface CircuitBreakerStats {
  key: string;
  state: 'closed' | 'open' | 'half-open' | 'isolated';
  options: CircuitBreakerOptions;
}

/**
 * One breaker of a {@link CircuitBreakerRegistry}, as {@link CircuitBreakerRegistry.getOrCreate}
 * returns it: a cockatiel `CircuitBreakerPolicy`, declared here by the methods callers use, so
 * that SPANE's CommonJS declarations import nothing from cockatiel (an ES-module-only package,
 * which a CommonJS consumer's compiler refuses to load under `moduleResolution: node16`).
 */
export interface CircuitBreaker {
  /** Runs `fn` through the breaker; an open breaker throws cockatiel's `BrokenCircuitError` without calling it. */
  execute<T>(fn: () => PromiseLike<T> | T): Promise<T>;
  /** Holds the breaker open until the returned handle is disposed. */
  isolate(): {
    /** Lets the breaker close again. */
    dispose(): void;
  };
}

const STATE_NAMES: Record<CircuitState, CircuitBreakerStats['state']> = {
  [CircuitState.Closed]: 'closed',
  [CircuitState.Open]: 'open',
  [CircuitState.HalfOpen]: 'half-open',
  [CircuitState.Isolated]: 'isolated',
};

/**
 * Circuit breakers by key (for example `http:api.example.com`), built on cockatiel: a breaker
 * opens after `failureThreshold` consecutive failures, lets calls through again after `timeout`
 * ms (half-open), and closes once `successThreshold` of those calls succeeded. State is per
 * process: each worker process protects the service on its own.
 *
 * @example
 * ```ts
 * const breakers = new CircuitBreakerRegistry();
 * const engine = new WorkflowEngine(registry, store, redis, undefined, breakers);
 * breakers.getAllStats(); // [{ key: 'http:api.example.com', state: 'open', ... }]
 * ```
 */
export class CircuitBreakerRegistry {
  private readonly breakers = new Map<string, { policy: CircuitBreakerPolicy; options: CircuitBreakerOptions }>();

  /** The breaker for `key`, created with `options` the first time. */
  getOrCreate(key: string, options: CircuitBreakerConfig = {}): CircuitBreaker {
    const found = this.breakers.get(key);
    if (found !== undefined) return found.policy;
    const resolved: CircuitBreakerOptions = { ...DEFAULT_CIRCUIT_BREAKER_OPTIONS, ...stripUndefined(options) };
    const policy = circuitBreaker(handleAll, {
      halfOpenAfter: resolved.timeout,
      breaker: new ConsecutiveBreaker(resolved.failureThreshold),
      halfOpenSampling: { calls: resolved.successThreshold, threshold: 0 },
    });
    this.breakers.set(key, { policy, options: resolved });
    return policy;
  }

  /** Runs `call` through the breaker for `key`; an open breaker throws {@link CircuitOpenError} without calling. */
  async execute<T>(key: string, options: CircuitBreakerConfig, call: () => Promise<T>): Promise<T> {
    try {
      return await this.getOrCreate(key, options).execute(call);
    } catch (err) {
      if (err instanceof BrokenCircuitError) throw new CircuitOpenError(key);
      throw err;
    }
  }

  /** The state of every breaker. */
  getAllStats(): CircuitBreakerStats[] {
    return [...this.breakers.entries()].map(([key, { policy, options }]) => ({ key, state: STATE_NAMES[policy.state], options }));
  }

  /** Forgets the breaker for `key` (it starts closed next time); returns whether there was one. */
  reset(key: string): boolean {
    return this.breakers.delete(key);
  }

  /** Forgets every breaker. */
  resetAll(): void {
    this.breakers.clear();
  }
}

function stripUndefined(o: CircuitBreakerConfig): CircuitBreakerConfig {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => typeof v === 'number' && Number.isFinite(v) && v >= 0));
}
