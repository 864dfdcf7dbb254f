/**
 * Eager chains are on by default (engine option `eagerChains`). With `SPANE_TEST_EAGER_CHAINS=0`
 * every engine a test creates defaults to `eagerChains: false`, with `SPANE_TEST_EAGER_CHAINS=1`
 * to `true` (a test's own config wins either way), so the whole suite runs both ways.
 */
import { setTestEngineDefaults } from '../../src/runtime/engine/test-hooks.js';

const eager = process.env['SPANE_TEST_EAGER_CHAINS'];
if (eager === '0') setTestEngineDefaults({ eagerChains: false });
else if (eager === '1') setTestEngineDefaults({ eagerChains: true });
