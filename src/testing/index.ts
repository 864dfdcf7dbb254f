/**
 * `spane/testing`: test workflows in the test's own process, with no Redis or PostgreSQL server.
 * See docs/testing.md.
 *
 * @module
 */
export { createTestEngine, TestEngine } from './test-engine.js';
export type { RunOutput, TestEngineOptions, TestRun, TestRunBase } from './test-engine.js';
export type { MockCall, MockContext, MockImpl, NodeMock } from './mocks.js';
export type { Duration } from './duration.js';
