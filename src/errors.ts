/**
 * SPANE's error hierarchy. Every error the library throws on purpose is a {@link SpaneError}
 * with a stable string `code`, so callers branch on `err.code` (or `instanceof`) rather than on
 * message text.
 *
 * @module
 */
export * from './errors/base.js';
export * from './errors/common.js';
export * from './errors/execution.js';
export * from './errors/webhook.js';
export * from './errors/serialize.js';
export * from './errors/dsl-validation.js';
export * from './errors/store.js';
export * from './errors/data.js';
export * from './errors/http.js';
export * from './errors/zod.js';
export * from './errors/fork.js';
export * from './errors/execution-query.js';
export * from './errors/signal.js';
export * from './errors/event.js';
