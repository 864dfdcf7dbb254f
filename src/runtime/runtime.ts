import type { ExecutionStore } from '../store/store.js';
import type { EngineConfig } from './config.js';
import type { QueueManager } from './queue-manager.js';
import type { NodeRegistry } from './registry.js';
import type { WorkflowCache } from './workflow-cache.js';

/** Where SPANE reports what it cannot throw to a caller (worker-side faults). */
export interface Logger {
  warn(message: string, details?: Record<string, unknown>): void;
  error(message: string, details?: Record<string, unknown>): void;
}

/** The console, prefixed. */
export const consoleLogger: Logger = {
  warn: (message, details) => console.warn(`[spane] ${message}`, details ?? ''),
  error: (message, details) => console.error(`[spane] ${message}`, details ?? ''),
};

/** What the engine's parts share. Internal. */
export interface Runtime {
  readonly store: ExecutionStore;
  readonly registry: NodeRegistry;
  readonly config: EngineConfig;
  readonly queues: QueueManager;
  readonly workflows: WorkflowCache;
  readonly logger: Logger;
}
