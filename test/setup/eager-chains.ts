/**
 * With `SPANE_TEST_EAGER_CHAINS=1`, every engine a test creates defaults to `eagerChains: true`
 * (a test's own config still wins), so the whole suite can run with eager chains on.
 */
import { setTestEngineDefaults } from '../../src/runtime/engine/test-hooks.js';

if (process.env['SPANE_TEST_EAGER_CHAINS'] === '1') setTestEngineDefaults({ eagerChains: true });
