/**
 * `spane dlq list` and `spane dlq retry <id>`: the dead letter queue of a shared backend.
 *
 * @module
 */
import { InvalidArgumentError } from '../../errors.js';
import { databaseUrlFromEnv } from '../../runtime/engine/create-engine.js';
import { NodeRegistry } from '../../runtime/engine/registry.js';
import type { CliBackend } from '../choices.js';
import { openEngine } from '../engine.js';
import type { CliIO } from '../io.js';
import { println } from '../io.js';
import { formatTable, isoTime, oneLine } from '../table.js';

/** Connection options of the `dlq` commands. */
export interface DlqOptions {
  backend: CliBackend;
  redisUrl?: string | undefined;
  databaseUrl?: string | undefined;
  prefix?: string | undefined;
}

/** Options of {@link dlqListCommand}. */
export interface DlqListOptions extends DlqOptions {
  /** At most this many items, oldest first. */
  limit: number;
  json?: boolean | undefined;
}

function checkBackend(options: DlqOptions, command: string): void {
  if (options.backend === 'embedded') {
    throw new InvalidArgumentError(
      `spane ${command}: --backend embedded keeps its queues inside one process, so no other process can read its DLQ; use --backend redis or postgres`,
    );
  }
}

/**
 * Prints the DLQ items (oldest first): job id, when and where the node failed, its attempts and
 * error; `--json` prints them as an array (without the node's input).
 */
export async function dlqListCommand(options: DlqListOptions, io: CliIO): Promise<number> {
  checkBackend(options, 'dlq list');
  const engine = await openEngine({ backend: options.backend, registry: new NodeRegistry(), redisUrl: options.redisUrl, databaseUrl: options.databaseUrl, prefix: options.prefix });
  try {
    const items = await engine.getDLQItems(0, options.limit - 1);
    if (options.json === true) {
      const shown = items.map(({ jobId, executionId, workflowId, nodeId, error, errorDetails, attempts, failedAt }) => ({
        jobId,
        executionId,
        workflowId,
        nodeId,
        error,
        errorDetails,
        attempts,
        failedAt,
      }));
      println(io.stdout, JSON.stringify(shown, null, 2));
      return 0;
    }
    const rows = items.map((i) => [isoTime(i.failedAt), i.workflowId, i.nodeId, String(i.attempts), i.jobId, oneLine(i.error, 60)]);
    if (rows.length > 0) for (const line of formatTable(['FAILED', 'WORKFLOW', 'NODE', 'ATTEMPTS', 'DLQ ITEM', 'ERROR'], rows)) println(io.stdout, line);
    println(
      io.stderr,
      `${items.length} item${items.length === 1 ? '' : 's'}${items.length === options.limit ? ` (the first ${options.limit}; --limit shows more)` : ''}; spane dlq retry <item> re-runs one`,
    );
    return 0;
  } finally {
    await engine.close();
  }
}

/**
 * Re-runs the failed node of a DLQ item: the execution goes back to running and the node's job
 * is queued for the workers of its workflow (which must be running somewhere to run it). Needs
 * the shared store, since the execution is read and changed there. Exit 1 when there is no
 * such item.
 */
export async function dlqRetryCommand(jobId: string, options: DlqOptions, io: CliIO): Promise<number> {
  checkBackend(options, 'dlq retry');
  if (options.backend === 'redis' && options.databaseUrl === undefined && databaseUrlFromEnv() === undefined) {
    throw new InvalidArgumentError(
      'spane dlq retry: the retried execution lives in the shared store: pass --database-url <url> or set SPANE_DATABASE_URL (or DATABASE_URL) to the PostgreSQL database the workers use',
    );
  }
  const engine = await openEngine({ backend: options.backend, registry: new NodeRegistry(), redisUrl: options.redisUrl, databaseUrl: options.databaseUrl, prefix: options.prefix });
  try {
    if (!(await engine.retryDLQItem(jobId))) {
      println(io.stderr, `spane: no DLQ item '${jobId}' (spane dlq list shows them)`);
      return 1;
    }
    println(io.stdout, `retried ${jobId}: its node is queued again, and the execution is running`);
    return 0;
  } finally {
    await engine.close();
  }
}
