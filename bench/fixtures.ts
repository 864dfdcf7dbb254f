/**
 * Bulk data the PostgreSQL benches share (bench/list.ts, bench/dashboard.ts).
 *
 * @module
 */
import type postgres from 'postgres';

const DAY = 86_400_000;

/** How many executions {@link insertExecutions} writes, and how. */
export interface ExecutionsLoad {
  /** How many executions. */
  executions: number;
  /** Node results per execution (`n1` … `n<nodes>`; a failed execution's last one failed). */
  nodes: number;
  /** The newest execution's start (epoch ms); the others go back over 30 days from it. */
  now: number;
}

/**
 * Inserts `load.executions` executions into `spane.executions` with one `INSERT ... SELECT
 * generate_series` (20 workflows, 3 versions, statuses 70% completed, 15% failed, 5% running, 5%
 * pending, 3% paused, 2% cancelled, evenly over 30 days, random but seeded) and `load.nodes`
 * node results each. Leaves `VACUUM ANALYZE` to the caller.
 */
export async function insertExecutions(sql: postgres.Sql, load: ExecutionsLoad): Promise<void> {
  const { executions, nodes, now } = load;
  const step = Math.floor((30 * DAY) / executions);
  await sql`select setseed(0.18)`;
  await sql.unsafe(
    `insert into spane.executions (execution_id, workflow_id, workflow_version, status, initial_data, depth, started_at, completed_at, error)
     select gen_random_uuid()::text, 'wf-' || (i % 20), 1 + (i % 3), s.status, '{"n":1}'::jsonb, 0, $1::bigint - i * $2::bigint,
            case when s.status in ('completed', 'failed', 'cancelled') then $1::bigint - i * $2::bigint + 5000 end,
            case when s.status = 'failed' then 'node n${nodes} failed' end
     from (select i, case when r < 0.70 then 'completed' when r < 0.85 then 'failed' when r < 0.90 then 'running'
                          when r < 0.95 then 'pending' when r < 0.98 then 'paused' else 'cancelled' end as status
           from (select i, random() as r from generate_series(1, $3::integer) i) g) s`,
    [now, step, executions],
  );
  await sql.unsafe(
    `insert into spane.node_results (execution_id, node_id, status, attempts, started_at, completed_at)
     select e.execution_id, 'n' || n, case when e.status = 'failed' and n = $1::integer then 'failed' else 'completed' end, 1, e.started_at + n * 100, e.started_at + n * 100 + 50
     from spane.executions e cross join generate_series(1, $1::integer) n`,
    [nodes],
  );
}
