/**
 * Store hot-path micro-benchmark: what the PostgreSQL store alone can do for chain-shaped work,
 * without BullMQ or Redis. CONCURRENCY callers each run chains of STEPS "nodes"; a node is what
 * a node job asks the store for: `getExecution`, then `saveNodeResult`; the last node also
 * re-reads and completes the execution, as the engine does.
 *
 *   npx tsx bench/store-calls.ts        (BENCH_CHAINS, BENCH_STEPS, BENCH_CONCURRENCY, BENCH_PG_POOL)
 *
 * Reports nodes/s and CPU per node in this process and in the PostgreSQL backends serving it
 * (from /proc, so Linux only; the server must be on this machine).
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import postgres from 'postgres';
import { DrizzleStore } from '../src/index.js';
import { createTestDatabase, POSTGRES_ADMIN_URL } from '../test/contract/databases.js';
import { envInt, procCpuMs } from './lib.js';

const CHAINS = envInt('BENCH_CHAINS', 400);
const STEPS = envInt('BENCH_STEPS', 10);
const CONCURRENCY = envInt('BENCH_CONCURRENCY', 50);
const ROUNDS = envInt('BENCH_ROUNDS', 3);
const POOLS = (process.env['BENCH_PG_POOLS'] ?? '10,20').split(',').map(Number);

async function main(): Promise<void> {
  const database = await createTestDatabase(POSTGRES_ADMIN_URL, 'spane_bench');
  const admin = postgres(POSTGRES_ADMIN_URL, { max: 1, onnotice: () => {} });
  try {
    const lines: string[] = ['| pool | nodes/s (per round) | Node CPU ms/node | PostgreSQL CPU ms/node |', '|---:|---|---:|---:|'];
    for (const pool of POOLS) {
      const client = postgres(database.url, { max: pool, onnotice: () => {} });
      const store = await DrizzleStore.postgres(client);
      const backends = async () => (await admin<{ pid: number }[]>`select pid from pg_stat_activity where datname = ${database.name}`).map((r) => r.pid);
      const rates: number[] = [];
      let nodeCpu = 0;
      let pgCpu = 0;
      let nodes = 0;
      await store.saveWorkflow({ id: 'wf', name: 'wf', entryNodeId: 's0', nodes: [{ id: 's0', type: 'x', config: {}, inputs: [], outputs: [] }] });
      for (let round = 0; round <= ROUNDS; round++) {
        const ids = Array.from({ length: CHAINS }, () => randomUUID());
        await Promise.all(
          ids.map((executionId) =>
            store.createExecution({ executionId, workflowId: 'wf', workflowVersion: 1, status: 'running', initialData: { step: 0 }, depth: 0, startedAt: Date.now() }),
          ),
        );
        const pids = await backends();
        const cpu0 = process.cpuUsage();
        const pg0 = procCpuMs(pids);
        const t0 = performance.now();
        let next = 0;
        await Promise.all(
          Array.from({ length: CONCURRENCY }, async () => {
            for (;;) {
              const executionId = ids[next++];
              if (executionId === undefined) return;
              for (let step = 0; step < STEPS; step++) {
                const exec = await store.getExecution(executionId);
                const t = Date.now();
                await store.saveNodeResult(executionId, `s${step}`, {
                  status: 'completed',
                  data: { step: step + 1, input: exec?.initialData },
                  attempts: 1,
                  startedAt: t,
                  completedAt: t,
                });
              }
              await store.getExecution(executionId);
              await store.transitionExecution(executionId, ['running'], 'completed');
            }
          }),
        );
        const ms = performance.now() - t0;
        const cpu = process.cpuUsage(cpu0);
        if (round === 0) continue; // warm-up
        rates.push((CHAINS * STEPS) / (ms / 1000));
        nodeCpu += (cpu.user + cpu.system) / 1000;
        pgCpu += procCpuMs(pids) - pg0;
        nodes += CHAINS * STEPS;
      }
      lines.push(`| ${pool} | ${rates.map((r) => r.toFixed(0)).join(', ')} | ${(nodeCpu / nodes).toFixed(3)} | ${(pgCpu / nodes).toFixed(3)} |`);
      await store.close();
      await client.end({ timeout: 5 });
    }
    process.stdout.write(`Store calls: ${CHAINS} chains × ${STEPS} nodes, ${CONCURRENCY} callers, ${ROUNDS} rounds after a warm-up\n\n${lines.join('\n')}\n`);
  } finally {
    await admin.end({ timeout: 5 });
    await database.drop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
