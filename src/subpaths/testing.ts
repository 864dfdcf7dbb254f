/**
 * `spane/testing`: {@link createTestEngine} and {@link TestEngine}, for testing workflows in the
 * test's own process with no Redis or PostgreSQL server: node mocks, a virtual clock
 * (`advanceTime`), typed runs. The same classes as `spane`'s. See docs/testing.md.
 *
 * @module
 */
export { createTestEngine, TestEngine } from '../testing/index.js';
export type { Duration, MockCall, MockContext, MockImpl, NodeMock, RunOutput, TestEngineOptions, TestRun, TestRunBase } from '../testing/index.js';
