/**
 * The `spane` command line: commander wiring of the commands, and how errors become exit codes.
 *
 * @module
 */
import { Command, CommanderError, InvalidArgumentError as CommanderArgumentError, Option } from 'commander';
import { SpaneError } from '../errors.js';
import { BACKENDS, GRAPH_FORMATS } from './choices.js';
import type { CliBackend } from './choices.js';
// Types only: erased, so the commands still load when they run.
import type { ForkCommandOptions } from './commands/fork.js';
import type { DashboardCommandOptions } from './commands/dashboard.js';
import type { DlqListOptions, DlqOptions } from './commands/dlq.js';
import type { ExecutionsInspectOptions, ExecutionsListOptions } from './commands/executions.js';
import type { GraphOptions } from './commands/graph.js';
import type { MigrateOptions } from './commands/migrate.js';
import type { RunOptions } from './commands/run.js';
import type { WorkerOptions } from './commands/worker.js';
import type { CliIO } from './io.js';
import { println, stackOf } from './io.js';

// Commands are imported when they run: `--help` or `validate` need not load BullMQ and drivers.

/** The package version, for `--version`. */
declare const SPANE_VERSION: string | undefined;

function positiveInt(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw new CommanderArgumentError(`${name} must be a positive integer`);
    return n;
  };
}

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65_535) throw new CommanderArgumentError('--port must be an integer from 0 to 65535');
  return n;
}

function seconds(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new CommanderArgumentError('must be a number of seconds (0: no limit)');
  return n;
}

function isoTime(name: string) {
  return (value: string): number => {
    const ms = Date.parse(value);
    if (!/^\d{4}-\d{2}-\d{2}/.test(value) || Number.isNaN(ms)) throw new CommanderArgumentError(`${name} must be an ISO 8601 time, e.g. 2026-12-07 or 2026-12-07T14:30:00Z`);
    return ms;
  };
}

const STORE_HELP =
  '\nReads the shared store the workers write to: a PostgreSQL database (--database-url, else SPANE_DATABASE_URL or DATABASE_URL), or a PGlite data directory no process has open (--data-dir). An in-memory store lives inside its own process: no other process can list its executions.';

const FILE_HELP = 'a module exporting workflows (.ts, .js, .mjs) or a JSON definition file; see docs/cli.md';

/**
 * Builds the program. Each action stores its exit code in `exit.code`; commander's own output
 * (help, usage errors) goes to `io`.
 */
export function createProgram(io: CliIO, exit: { code: number }): Command {
  const program = new Command('spane')
    .description('Run, check, draw and document SPANE workflows.')
    .version(typeof SPANE_VERSION === 'string' ? SPANE_VERSION : 'dev', '-v, --version')
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .option('--verbose', 'print the stack of an error (a module that fails to load, ...) after its one-line message')
    .exitOverride()
    .showHelpAfterError('(add --help for usage)');

  const connectionOptions = (cmd: Command, backends: readonly CliBackend[], fallback: CliBackend): Command =>
    cmd
      .addOption(new Option('-b, --backend <kind>', 'queue backend').choices(backends).default(fallback))
      .option('--redis-url <url>', 'Redis for --backend redis (default: SPANE_REDIS_URL, REDIS_URL, redis://127.0.0.1:6379)')
      .option('--database-url <url>', 'PostgreSQL for --backend postgres and for the state store (default: SPANE_DATABASE_URL, DATABASE_URL)')
      .option('--prefix <prefix>', 'key prefix of the queues (default: {spane})')
      .addOption(new Option('-c, --concurrency <n>', 'jobs run at once').argParser(positiveInt('--concurrency')).default(5));

  connectionOptions(
    program
      .command('run')
      .description('Run one execution of a workflow in this process, with live per-node progress; prints its result as JSON.')
      .argument('<file>', FILE_HELP)
      .option('-i, --input <json>', "initial data as JSON (default: the module's `input` export)")
      .option('-w, --workflow <id>', 'the workflow to run when the file exports several'),
    BACKENDS,
    'embedded',
  )
    .option('--data-dir <dir>', 'embedded backend: keep its database in this folder (default: in memory)')
    .addOption(new Option('-t, --timeout <seconds>', 'give up waiting after this long (0: no limit)').argParser(seconds).default(0))
    .addHelpText(
      'after',
      "\nThe data is checked against the workflow's input schema first. Exit code: 0 when the execution completed, 1 when it failed, was cancelled or could not start, 2 when the input schema refused the data.",
    )
    .action(async (file: string, opts: RunOptions) => {
      const { runCommand } = await import('./commands/run.js');
      exit.code = await runCommand(file, opts, io);
    });

  program
    .command('validate')
    .description('Check every workflow of the files and print each problem on its own line.')
    .argument('<files...>', FILE_HELP)
    .addHelpText('after', '\nExit code: 1 when any workflow has a problem or a file cannot be used, else 0.')
    .action(async (files: string[]) => {
      const { validateCommand } = await import('./commands/validate.js');
      exit.code = await validateCommand(files, io);
    });

  program
    .command('graph')
    .description('Print the graph of the workflows of a file.')
    .argument('<file>', FILE_HELP)
    .addOption(new Option('-f, --format <format>', 'mermaid flowchart or the definition as JSON').choices(GRAPH_FORMATS).default('mermaid'))
    .option('-w, --workflow <id>', 'only this workflow')
    .action(async (file: string, opts: GraphOptions) => {
      const { graphCommand } = await import('./commands/graph.js');
      exit.code = await graphCommand(file, opts, io);
    });

  program
    .command('docs')
    .description('Write a Markdown page (Mermaid graph, node and IO tables) per workflow, plus index.md.')
    .argument('<files...>', FILE_HELP)
    .requiredOption('-o, --out <dir>', 'folder to write into')
    .action(async (files: string[], opts: { out: string }) => {
      const { docsCommand } = await import('./commands/docs.js');
      exit.code = await docsCommand(files, opts.out, io);
    });

  connectionOptions(
    program.command('worker').description("Process jobs of the file's workflows on a shared backend (start as many as you like, on any machine); SIGTERM stops it gracefully."),
    ['redis', 'postgres'],
    'redis',
  )
    .argument('<file>', FILE_HELP)
    .action(async (file: string, opts: WorkerOptions) => {
      const { workerCommand } = await import('./commands/worker.js');
      exit.code = await workerCommand({ file, options: opts, io });
    });

  connectionOptions(
    program
      .command('dashboard')
      .description('Serve the dashboard (workflows, executions, DLQ, live) of a backend; with a file, register its workflows and run them here too.')
      .argument('[file]', FILE_HELP),
    BACKENDS,
    'embedded',
  )
    .option('--data-dir <dir>', 'embedded backend: keep its database in this folder (default: in memory)')
    .addOption(new Option('-p, --port <port>', 'port to listen on (0: any free one)').argParser(port).default(4545))
    .option('--host <address>', 'address to listen on; any but loopback needs --token', '127.0.0.1')
    .option('--token <secret>', 'require this token (default: SPANE_DASHBOARD_TOKEN; none on loopback)')
    .option('--no-workers', "only watch: do not run the file's workflows in this process")
    .action(async (file: string | undefined, opts: DashboardCommandOptions) => {
      const { dashboardCommand } = await import('./commands/dashboard.js');
      exit.code = await dashboardCommand({ file, options: opts, io });
    });

  const executions = program.command('executions').description('List and inspect executions in the shared store (PostgreSQL), from any machine.');
  const storeOptions = (cmd: Command): Command =>
    cmd
      .option('--database-url <url>', 'PostgreSQL the workers use (default: SPANE_DATABASE_URL, DATABASE_URL)')
      .option('--data-dir <dir>', 'read a PGlite data directory instead (one no process has open)')
      .option('--json', 'print JSON instead of a table')
      .addHelpText('after', STORE_HELP);

  storeOptions(
    executions
      .command('list')
      .description('List executions, newest first, a page at a time; stderr says how many match by status and how to get the next page.')
      .option('-w, --workflow <id>', 'only executions of this workflow')
      .addOption(new Option('--workflow-version <n>', 'only this version of --workflow').argParser(positiveInt('--workflow-version')))
      .option('-s, --status <statuses>', 'only these statuses, comma-separated (pending, running, paused, completed, failed, cancelled)')
      .addOption(new Option('--from <time>', 'only executions started at or after this ISO 8601 time').argParser(isoTime('--from')))
      .addOption(new Option('--to <time>', 'only executions started before this ISO 8601 time').argParser(isoTime('--to')))
      .option('--id <prefix>', 'only executions whose id starts with this')
      .addOption(new Option('-n, --limit <n>', 'executions per page, at most 500 (default: 50)').argParser(positiveInt('--limit')))
      .option('--cursor <cursor>', 'the page after the one that printed this cursor (pass the same filters)'),
  ).action(async (opts: ExecutionsListOptions) => {
    const { executionsListCommand } = await import('./commands/executions.js');
    exit.code = await executionsListCommand(opts, io);
  });

  storeOptions(
    executions
      .command('inspect')
      .description("Show an execution: status, times, error, and each node's status, attempts, timings and error (no data).")
      .argument('<executionId>', 'the execution'),
  ).action(async (executionId: string, opts: ExecutionsInspectOptions) => {
    const { executionsInspectCommand } = await import('./commands/executions.js');
    exit.code = await executionsInspectCommand(executionId, opts, io);
  });

  const dlq = program.command('dlq').description('The dead letter queue of a shared backend: nodes whose last attempt failed.');
  const dlqOptions = (cmd: Command): Command =>
    cmd
      .addOption(new Option('-b, --backend <kind>', 'queue backend').choices(['redis', 'postgres']).default('redis'))
      .option('--redis-url <url>', 'Redis for --backend redis (default: SPANE_REDIS_URL, REDIS_URL, redis://127.0.0.1:6379)')
      .option('--database-url <url>', 'PostgreSQL for --backend postgres and for the state store (default: SPANE_DATABASE_URL, DATABASE_URL)')
      .option('--prefix <prefix>', 'key prefix of the queues (default: {spane})');

  dlqOptions(dlq.command('list').description('List DLQ items, oldest first.'))
    .addOption(new Option('-n, --limit <n>', 'at most this many').argParser(positiveInt('--limit')).default(100))
    .option('--json', 'print JSON instead of a table')
    .action(async (opts: DlqListOptions) => {
      const { dlqListCommand } = await import('./commands/dlq.js');
      exit.code = await dlqListCommand(opts, io);
    });

  dlqOptions(dlq.command('retry').description("Re-run a DLQ item's failed node; the execution carries on when it succeeds (a worker of its workflow must be running)."))
    .argument('<item>', 'the DLQ item, as dlq list prints it (dlq__<executionId>__<nodeId>)')
    .addHelpText(
      'after',
      '\nNeeds the shared store (--database-url, SPANE_DATABASE_URL or DATABASE_URL). Exit code: 0 when retried, 1 when there is no such item or the execution cannot be retried.',
    )
    .action(async (item: string, opts: DlqOptions) => {
      const { dlqRetryCommand } = await import('./commands/dlq.js');
      exit.code = await dlqRetryCommand(item, opts, io);
    });

  program
    .command('fork')
    .description('Fork a finished execution: keep the results above a node, run it and everything below it again; prints the new execution id.')
    .argument('<executionId>', 'the completed, failed or cancelled execution to fork')
    .requiredOption('--from <nodeId>', 'the node to re-run from')
    .option('-i, --input <json>', "that node's input as JSON (default: what its parents give it)")
    .addOption(
      new Option('--workflow-version <n>', 'the registered workflow version the fork runs; --version <n> works too (default: the original one)').argParser(
        positiveInt('--version'),
      ),
    )
    .addOption(new Option('-b, --backend <kind>', 'queue backend').choices(BACKENDS).default('redis'))
    .option('--redis-url <url>', 'Redis for --backend redis (default: SPANE_REDIS_URL, REDIS_URL, redis://127.0.0.1:6379)')
    .option('--database-url <url>', 'PostgreSQL holding the execution (default: SPANE_DATABASE_URL, DATABASE_URL)')
    .option('--data-dir <dir>', 'embedded backend: the PGlite data folder holding the execution')
    .option('--prefix <prefix>', 'key prefix of the queues (default: {spane})')
    .addHelpText('after', '\nOnly creates the fork: workers (spane worker) run it. Exit code: 0 with the new id on stdout, else 1. See docs/fork.md.')
    .action(async (executionId: string, opts: ForkCommandOptions) => {
      const { forkCommand } = await import('./commands/fork.js');
      exit.code = await forkCommand(executionId, opts, io);
    });

  program
    .command('init')
    .description('Create a project that runs at once, offline: a DSL workflow, a test of it, package.json scripts, tsconfig.json, README.md.')
    .argument('[dir]', 'folder to create it in (made when missing)', '.')
    .addHelpText(
      'after',
      '\nNever overwrites a file: when one exists (or package.json has a start/test script of its own), it lists them and writes nothing (exit 1). An existing package.json gets the scripts and dependencies it lacks.',
    )
    .action(async (dir: string) => {
      const { initCommand } = await import('./commands/init.js');
      exit.code = initCommand(dir, io);
    });

  program
    .command('migrate')
    .description("Apply the state store's migrations (a deploy step for stores opened with migrate: false).")
    .option('--database-url <url>', 'PostgreSQL to migrate (default: SPANE_DATABASE_URL, DATABASE_URL)')
    .option('--data-dir <dir>', 'migrate a PGlite data directory instead')
    .addHelpText('after', '\nSafe to run from several deploys at once: migrations take an advisory lock. Exit code: 0 when the schema is up to date, else 1.')
    .action(async (opts: MigrateOptions) => {
      const { migrateCommand } = await import('./commands/migrate.js');
      exit.code = await migrateCommand(opts, io);
    });

  return program;
}

/**
 * Runs the command line `argv` (without node and script) and resolves with the exit code. Errors
 * SPANE throws on purpose are printed as one `spane: ...` line (followed by their stack and their
 * causes' with `--verbose`); anything else with its stack.
 */
export async function runCli(argv: readonly string[], io: CliIO): Promise<number> {
  // Read before parsing, so it counts wherever it stands (`spane --verbose run` or `spane run x --verbose`).
  if (argv.includes('--verbose')) io = { ...io, verbose: true };
  // The program's --version prints the package's; after `fork` it names the workflow version.
  if (argv[0] === 'fork')
    argv = argv.map((a) => (a === '--version' ? '--workflow-version' : a.startsWith('--version=') ? `--workflow-version=${a.slice('--version='.length)}` : a));
  const exit = { code: 0 };
  const program = createProgram(io, exit);
  try {
    if (argv.length === 0) {
      program.outputHelp({ error: true });
      return 1;
    }
    await program.parseAsync([...argv], { from: 'user' });
    return exit.code;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode;
    const message = err instanceof SpaneError || isSpaneErrorLike(err) ? (err as Error).message : err instanceof Error ? (err.stack ?? err.message) : String(err);
    // A message that names its command ('spane fork: …') is printed as it is, not 'spane: spane fork: …'.
    println(io.stderr, message.startsWith('spane ') ? message : `spane: ${message}`);
    if (io.verbose === true && (err instanceof SpaneError || isSpaneErrorLike(err))) println(io.stderr, stackOf(err));
    return 1;
  }
}

/**
 * An error that names its failure with a `code`: a SpaneError from another copy of the package
 * (the module may import its own build), or a Node system error (ECONNREFUSED, ...). Its
 * message says enough; a stack would only bury it.
 */
function isSpaneErrorLike(err: unknown): boolean {
  return err instanceof Error && typeof (err as { code?: unknown }).code === 'string';
}
