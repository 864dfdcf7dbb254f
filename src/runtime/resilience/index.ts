/**
 * # resilience/
 *
 * Protection around executors: per-key circuit breakers on cockatiel (`circuit-breaker.ts`,
 * {@link CircuitBreakerRegistry}) and GCRA rate limits kept in Redis or another shared
 * {@link GcraStore} (`rate-limit.ts`, {@link RateLimiter}). How a failed node is retried (its
 * attempts and backoff) belongs in this folder too, as `retry.ts`.
 *
 * Entry points: `CircuitBreakerRegistry.getOrCreate`, `RateLimiter.acquire`.
 *
 * May import: `src/definition` types, `src/errors` and its libraries, and no other runtime
 * folder: resilience is a leaf that anything may use, and it knows nothing of jobs, queues or the
 * engine.
 *
 * Imported by: engine/ (builds the registries for the {@link Runtime}) and sandbox/ (a worker
 * thread builds its own), by file. Rules and diagram: docs/architecture.md.
 *
 * @module
 */
export { CircuitBreakerRegistry, DEFAULT_CIRCUIT_BREAKER_OPTIONS } from './circuit-breaker.js';
export type { CircuitBreaker, CircuitBreakerOptions, CircuitBreakerStats } from './circuit-breaker.js';
export { RateLimiter } from './rate-limit.js';
export type { GcraStore, RateLimit } from './rate-limit.js';
