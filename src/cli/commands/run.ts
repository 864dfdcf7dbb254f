/**
 * `spane run <file>`: registers the file's workflows, runs one execution in this process with
 * per-node progress, and prints its result.
 *
 * @module
 */
import { workflowOutput } from '../../definition/graph.js';
import { InvalidArgumentError, WorkflowInputError } from '../../errors.js';
import { checkWorkflowInput } from '../../definition/workflow-input.js';
import { NodeRegistry } from '../../runtime/engine/registry.js';
import type { CliBackend } from '../choices.js';
import { openEngine } from '../engine.js';
import type { CliIO } from '../io.js';
import { println } from '../io.js';
import { createProgressView, formatDuration } from '../progress.js';
import { loadWorkflowModule, selectWorkflow } from '../workflow-module.js';

/** Options of {@link runCommand}. */
export interface RunOptions {
  /** Initial data as JSON text; else the module's `input` export. */
  input?: string | undefined;
  backend: CliBackend;
  /** The workflow to run when the file has several. */
  workflow?: string | undefined;
  /** Worker concurrency. */
  concurrency: number;
  /** Give up after this many seconds (0: wait as long as it takes). */
  timeout: number;
  redisUrl?: string | undefined;
  databaseUrl?: string | undefined;
  dataDir?: string | undefined;
  prefix?: string | undefined;
  /** Live progress lines; default: when stderr is a terminal. */
  live?: boolean | undefined;
}

/** Parses `--input`: JSON text, refused with an {@link InvalidArgumentError} naming the option. */
export function parseInput(text: string | undefined, fallback: unknown): unknown {
  if (text === undefined) return fallback;
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new InvalidArgumentError(`--input must be JSON (${(err as Error).message}): ${text.length > 60 ? `${text.slice(0, 60)}…` : text}`, { cause: err });
  }
}

/**
 * Runs one execution and waits for its end. Progress goes to stderr, the result (the final
 * node's data, or `{ finalNodeId: data }`) to stdout as JSON. Returns 0 when the execution
 * completed, 2 when the workflow's input schema refuses the data (nothing is started), 1 otherwise.
 */
export async function runCommand(file: string, options: RunOptions, io: CliIO): Promise<number> {
  const mod = await loadWorkflowModule(file, io.cwd);
  const target = selectWorkflow(mod, options.workflow);
  const input = parseInput(options.input, mod.input);
  // Before any connection: data the workflow's input schema refuses would only fail its first node.
  try {
    await checkWorkflowInput(target, input);
  } catch (err) {
    if (!(err instanceof WorkflowInputError)) throw err;
    println(io.stderr, `spane: ${err.message}`);
    println(io.stderr, `Nothing was started. Fix the data (${options.input === undefined ? "the module's `input` export" : '--input'}) to match the schema.`);
    return 2;
  }
  const engine = await openEngine({
    backend: options.backend,
    registry: mod.registry ?? new NodeRegistry(),
    redisUrl: options.redisUrl,
    databaseUrl: options.databaseUrl,
    dataDir: options.dataDir,
    prefix: options.prefix,
  });
  const view = createProgressView({ nodes: target.nodes, stream: io.stderr, ...(options.live !== undefined && { live: options.live }) });
  const stopObserving = engine.observeEvents((e) => view.onEvent(e));
  // Ctrl-C (SIGINT) or a stop request (SIGTERM) cancels the execution (its running nodes see
  // their AbortSignal) and exits 128 + the signal's number (130, 143); a second signal while that
  // happens exits at once.
  const exitCodes = { SIGINT: 130, SIGTERM: 143 } as const;
  const signals = Object.keys(exitCodes) as (keyof typeof exitCodes)[];
  const exitNow = (signal: NodeJS.Signals) => process.exit(exitCodes[signal as keyof typeof exitCodes] ?? 130);
  let onSignal: ((signal: NodeJS.Signals) => void) | undefined;
  const interrupted = new Promise<{ interrupted: number }>((resolve) => {
    onSignal = (signal) => {
      for (const s of signals) {
        process.off(s, onSignal!);
        process.once(s, exitNow);
      }
      resolve({ interrupted: exitCodes[signal as keyof typeof exitCodes] ?? 130 });
    };
    for (const s of signals) process.on(s, onSignal);
  });
  try {
    // Every workflow of the file, so sub-workflows it starts are there too.
    for (const w of mod.workflows) await engine.registerWorkflow(w);
    engine.startWorkers(options.concurrency);
    const started = Date.now();
    const executionId = await engine.enqueueWorkflow(target.id, input);
    println(io.stderr, `${target.id}: execution ${executionId} (${options.backend})`);
    view.follow(executionId);
    const waited = engine.waitForExecution(executionId, options.timeout > 0 ? { timeoutMs: options.timeout * 1000 } : {});
    const outcome = await Promise.race([waited, interrupted]);
    view.stop();
    if ('interrupted' in outcome) {
      const cancelled = await engine.cancelWorkflow(executionId).catch((err: unknown) => {
        println(io.stderr, `${target.id}: could not cancel execution ${executionId}: ${err instanceof Error ? err.message : String(err)}`);
        return false;
      });
      println(io.stderr, `${target.id}: interrupted; execution ${executionId} ${cancelled ? 'cancelled' : 'had already ended'}`);
      return outcome.interrupted;
    }
    const took = formatDuration(Date.now() - started);
    if (outcome.status === 'completed') {
      println(io.stderr, `${target.id}: completed in ${took}`);
      println(io.stdout, JSON.stringify(workflowOutput(target, outcome.nodeResults) ?? null, null, 2));
      return 0;
    }
    println(io.stderr, `${target.id}: ${outcome.status} after ${took}${outcome.error !== undefined ? `: ${outcome.error}` : ''}`);
    for (const [nodeId, r] of Object.entries(outcome.nodeResults)) {
      if (r.status === 'failed') println(io.stderr, `  ${nodeId}: ${r.error ?? 'failed'}`);
    }
    return 1;
  } finally {
    for (const s of signals) {
      if (onSignal !== undefined) process.off(s, onSignal);
      process.off(s, exitNow);
    }
    view.stop();
    stopObserving();
    await engine.close();
  }
}
