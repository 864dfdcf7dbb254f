/**
 * `spane dashboard [file]`: serves the dashboard of a backend over HTTP until SIGTERM. With a
 * file, its workflows are registered and (unless `--no-workers`) run by this process too.
 *
 * @module
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createDashboard } from '../../dashboard/server.js';
import { isLoopback } from '../../dashboard/auth.js';
import { toNodeListener } from '../../dashboard/node-listener.js';
import { InvalidArgumentError } from '../../errors.js';
import { NodeRegistry } from '../../runtime/engine/registry.js';
import type { CliBackend } from '../choices.js';
import { openEngine } from '../engine.js';
import type { CliIO } from '../io.js';
import { println } from '../io.js';
import { loadWorkflowModule } from '../workflow-module.js';
import { nextStopSignal } from './worker.js';

/** Options of {@link dashboardCommand}. */
export interface DashboardCommandOptions {
  backend: CliBackend;
  concurrency: number;
  port: number;
  host: string;
  token?: string | undefined;
  workers: boolean;
  redisUrl?: string | undefined;
  databaseUrl?: string | undefined;
  dataDir?: string | undefined;
  prefix?: string | undefined;
}

/** What {@link dashboardCommand} runs. */
export interface DashboardCommandRun {
  file: string | undefined;
  options: DashboardCommandOptions;
  io: CliIO;
  /** Resolves when the server should stop. @defaultValue {@link nextStopSignal} */
  stopSignal?: () => Promise<NodeJS.Signals>;
}

/**
 * Opens the engine, serves its dashboard on `host:port` and prints the address (with the token
 * link when a token is set). A non-loopback `host` needs a token (`--token` or
 * `SPANE_DASHBOARD_TOKEN`), checked before anything is opened.
 */
export async function dashboardCommand(run: DashboardCommandRun): Promise<number> {
  const { file, options, io, stopSignal = nextStopSignal } = run;
  const token = options.token ?? (process.env['SPANE_DASHBOARD_TOKEN'] || undefined);
  if (!isLoopback(options.host) && token === undefined) {
    throw new InvalidArgumentError(
      `--host ${options.host} is not a loopback address: pass --token <secret> (or set SPANE_DASHBOARD_TOKEN) so that only holders of the token can use the dashboard`,
    );
  }
  if (token !== undefined && token.length < 8) throw new InvalidArgumentError('--token must be at least 8 characters');
  const mod = file === undefined ? undefined : await loadWorkflowModule(file, io.cwd);
  const engine = await openEngine({
    backend: options.backend,
    registry: mod?.registry ?? new NodeRegistry(),
    redisUrl: options.redisUrl,
    databaseUrl: options.databaseUrl,
    dataDir: options.dataDir,
    prefix: options.prefix,
  });
  const server = createServer(toNodeListener(createDashboard(engine, token === undefined ? {} : { token })));
  try {
    for (const w of mod?.workflows ?? []) await engine.registerWorkflow(w);
    if (mod !== undefined && options.workers) engine.startWorkers(options.concurrency);
    await engine.waitUntilReady();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, options.host, resolve);
    });
    const { port } = server.address() as AddressInfo;
    const shown = options.host.includes(':') ? `[${options.host}]` : options.host;
    const url = `http://${shown}:${port}/`;
    println(io.stdout, `spane dashboard: ${url}${token === undefined ? '' : ` (open ${url}?token=… once to sign in)`}`);
    const signal = await stopSignal();
    println(io.stderr, `spane dashboard: ${signal}, stopping`);
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await engine.close();
  }
  return 0;
}
