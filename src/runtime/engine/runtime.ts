import type { ExecutionStore } from '../../store/store.js';
import type { ResolvedEngineConfig } from './config.js';
import type { EventStreamManager } from '../observe/events.js';
import type { Tracing } from '../observe/tracing.js';
import type { ExecutionHandoff } from '../execution/handoff.js';
import type { PayloadManager } from '../execution/payloads.js';
import type { CircuitBreakerRegistry } from '../resilience/circuit-breaker.js';
import type { RateLimiter } from '../resilience/rate-limit.js';
import type { QueueManager } from '../queues/queue-manager.js';
import type { NodeRegistry } from './registry.js';
import type { WorkflowCache } from './workflow-cache.js';

/** Where SPANE reports what it cannot throw to a caller (worker-side faults). */
export interface Logger {
  /** Something went wrong and SPANE carried on (a retry, a dropped event, a fallback). */
  warn(message: string, details?: Record<string, unknown>): void;
  /** Something failed that no caller will see thrown (a worker-side fault). */
  error(message: string, details?: Record<string, unknown>): void;
}

/** The console, prefixed. */
export const consoleLogger: Logger = {
  warn: (message, details) => console.warn(`[spane] ${message}`, details ?? ''),
  error: (message, details) => console.error(`[spane] ${message}`, details ?? ''),
};

/**
 * In-process wake-ups for executions that reached a terminal status here, so waiters need not
 * wait for their next poll. Executions finished by other processes are seen by polling.
 */
export class SettleSignals {
  private readonly waiters = new Map<string, Set<() => void>>();

  /** Wakes everyone waiting on this execution. */
  notify(executionId: string): void {
    const set = this.waiters.get(executionId);
    if (set === undefined) return;
    this.waiters.delete(executionId);
    for (const wake of set) wake();
  }

  /** Resolves at the next notify for this execution, or after `ms`. */
  wait(executionId: string, ms: number): Promise<void> {
    return new Promise((resolve) => {
      let set = this.waiters.get(executionId);
      if (set === undefined) this.waiters.set(executionId, (set = new Set()));
      const wake = () => {
        clearTimeout(timer);
        set.delete(wake);
        if (set.size === 0 && this.waiters.get(executionId) === set) this.waiters.delete(executionId);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      set.add(wake);
    });
  }
}

/**
 * Where the engine reads the time it records (node and execution timestamps, event timestamps,
 * a delay node's due time) and computes schedules from: epoch ms. `Date.now` unless a test
 * harness (`spane/testing`) gives a virtual one.
 */
export type Clock = () => number;

/** What the engine's parts share. Internal. */
export interface Runtime {
  readonly settled: SettleSignals;
  /** The engine's clock (see {@link Clock}). */
  readonly clock: Clock;
  readonly events: EventStreamManager;
  readonly breakers: CircuitBreakerRegistry;
  readonly rateLimiter: RateLimiter;
  readonly store: ExecutionStore;
  readonly registry: NodeRegistry;
  readonly config: ResolvedEngineConfig;
  readonly queues: QueueManager;
  readonly workflows: WorkflowCache;
  readonly logger: Logger;
  /** Views of executions passed from a finished node to the children it enqueued. */
  readonly handoff: ExecutionHandoff;
  /** OpenTelemetry spans (docs/tracing.md); `tracing.current` is undefined while tracing is off. */
  readonly tracing: Tracing;
  /** Claim check; undefined when the store has no payload storage (values then stay inline). */
  readonly payloads: PayloadManager | undefined;
}
