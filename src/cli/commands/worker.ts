/**
 * `spane worker <file>`: workers for the file's workflows on a shared backend, until SIGTERM.
 *
 * @module
 */
import { InvalidArgumentError } from '../../errors.js';
import { NodeRegistry } from '../../runtime/engine/registry.js';
import type { CliBackend } from '../choices.js';
import { openEngine } from '../engine.js';
import type { CliIO } from '../io.js';
import { println } from '../io.js';
import { loadWorkflowModule } from '../workflow-module.js';

/** Options of {@link workerCommand}. */
export interface WorkerOptions {
  backend: CliBackend;
  concurrency: number;
  redisUrl?: string | undefined;
  databaseUrl?: string | undefined;
  prefix?: string | undefined;
}

/** Resolves with the name of the first of SIGTERM or SIGINT the process receives. */
export function nextStopSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      process.off('SIGTERM', stop);
      process.off('SIGINT', stop);
      resolve(signal);
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
  });
}

/** What {@link workerCommand} runs. */
export interface WorkerCommandRun {
  /** The workflow module. */
  file: string;
  /** The command's parsed options. */
  options: WorkerOptions;
  /** Where output goes and the working directory. */
  io: CliIO;
  /** Resolves when the worker should stop. @defaultValue {@link nextStopSignal} */
  stopSignal?: () => Promise<NodeJS.Signals>;
}

/**
 * Registers the file's workflows (so their definitions are stored and their executors known),
 * starts workers and processes jobs until `stopSignal` resolves; then closes the engine, which
 * lets running jobs finish first. A second signal while closing exits at once (code 1).
 */
export async function workerCommand(run: WorkerCommandRun): Promise<number> {
  const { file, options, io, stopSignal = nextStopSignal } = run;
  if (options.backend === 'embedded') {
    throw new InvalidArgumentError('--backend embedded keeps its queues inside one process: workers of other processes cannot reach it; use --backend redis or postgres');
  }
  const mod = await loadWorkflowModule(file, io.cwd);
  const engine = await openEngine({
    backend: options.backend,
    registry: mod.registry ?? new NodeRegistry(),
    redisUrl: options.redisUrl,
    databaseUrl: options.databaseUrl,
    prefix: options.prefix,
  });
  try {
    for (const w of mod.workflows) await engine.registerWorkflow(w);
    engine.startWorkers(options.concurrency);
    await engine.waitUntilReady();
    const ids = mod.workflows.map((w) => w.id).join(', ');
    println(io.stderr, `spane worker ${process.pid}: ready (${options.backend}, concurrency ${options.concurrency}) for ${ids}; SIGTERM or Ctrl-C stops it`);
    const signal = await stopSignal();
    println(io.stderr, `spane worker ${process.pid}: ${signal}, finishing running jobs`);
    void stopSignal().then((again) => {
      println(io.stderr, `spane worker ${process.pid}: ${again} again, exiting now`);
      process.exit(1);
    });
  } finally {
    await engine.close();
  }
  println(io.stderr, `spane worker ${process.pid}: stopped`);
  return 0;
}
