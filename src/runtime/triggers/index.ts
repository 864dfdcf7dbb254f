/**
 * # triggers/
 *
 * What starts executions from outside a caller's code: cron schedules as BullMQ job schedulers
 * on `workflow-execution` (`trigger-manager.ts`, {@link TriggerManager}) and webhooks
 * (`webhooks.ts`): request checks (`webhook-request.ts`), the path index (`webhook-index.ts`),
 * signatures, X-Spane-Signature and Standard Webhooks (`webhook-signature.ts`), and replay
 * records kept in the queue backend (`webhook-replay.ts`).
 *
 * Entry points: `TriggerManager.upsertSchedule`, `WebhookManager.handle`, `signWebhook`.
 *
 * May import: queues/ (job names and shapes, the SQL backend's replay table), engine/ for the
 * {@link Runtime} type only, `src/definition`, the `ExecutionStore` interface, `src/errors`.
 * Must not import: execution/, sandbox/, observe/: a webhook starts executions through the
 * `start` function the engine hands it.
 *
 * Imported by: engine/ only (the facade owns one trigger manager). Rules and diagram:
 * docs/architecture.md.
 *
 * @module
 */
export { schedulerId, SIGNATURE_HEADER, signWebhook, TIMESTAMP_HEADER, TriggerManager } from './trigger-manager.js';
export type { ScheduleInfo, WebhookOptions, WebhookRequest } from './trigger-manager.js';
export { MAX_WEBHOOK_BODY_DEPTH } from './webhook-request.js';
export type { WebhookSecretResolver } from './webhooks.js';
