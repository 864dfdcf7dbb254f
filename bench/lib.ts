/** Helpers shared by the benchmarks. */
import { performance } from 'node:perf_hooks';
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import type { EngineConfig, ExecutionStatus, ExecutionStore, NodeDefinition, TransitionPatch, WorkflowDefinition } from '../src/index.js';

/** A positive integer from the environment, or `fallback`. */
export function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} must be a positive integer, got '${raw}'`);
  return n;
}

/** Summary of timing samples. */
export interface Stats {
  median: number;
  p95: number;
  min: number;
  max: number;
}

/** Nearest-rank percentiles. */
export function stats(samples: readonly number[]): Stats {
  const s = [...samples].sort((a, b) => a - b);
  const rank = (p: number) => s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
  return { median: rank(50), p95: rank(95), min: s[0]!, max: s.at(-1)! };
}

/**
 * CPU time (ms, user + system) the given processes have used so far, from /proc/<pid>/stat:
 * Linux only, and only for processes on this machine. Processes that are gone count as 0.
 */
export function procCpuMs(pids: readonly number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    try {
      const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      ticks += Number(fields[11]) + Number(fields[12]);
    } catch {
      // Exited, or not Linux.
    }
  }
  return ticks * 10; // USER_HZ is 100 on Linux
}

/** This process's CPU time so far (ms, user + system). */
export function ownCpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/** Rejects when `promise` has not settled within `ms` (names `what` in the error). */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`bench: timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Resolves with the time (performance.now()) of `key`'s completion, whether it already happened or not. */
export class CompletionBoard {
  private readonly done = new Map<string, number>();
  private readonly waiters = new Map<string, (at: number) => void>();
  private count = 0;
  private countWaiter: { target: number; resolve: () => void } | undefined;

  mark(key: string): void {
    const at = performance.now();
    if (this.done.has(key)) return;
    this.done.set(key, at);
    this.count++;
    const w = this.waiters.get(key);
    if (w !== undefined) {
      this.waiters.delete(key);
      w(at);
    }
    if (this.countWaiter !== undefined && this.count >= this.countWaiter.target) {
      const { resolve } = this.countWaiter;
      this.countWaiter = undefined;
      resolve();
    }
  }

  waitFor(key: string): Promise<number> {
    const at = this.done.get(key);
    if (at !== undefined) return Promise.resolve(at);
    return new Promise((resolve) => this.waiters.set(key, resolve));
  }

  /** Resolves once `n` more keys are marked than now. */
  waitForMore(n: number): Promise<void> {
    const target = this.count + n;
    if (this.count >= target) return Promise.resolve();
    return new Promise((resolve) => (this.countWaiter = { target, resolve }));
  }

  /** Forgets finished keys (keeps memory flat between phases). */
  reset(): void {
    this.done.clear();
  }
}

/** A workflow of `length` nodes `s0 → s1 → …` of one node type, each with the same config. */
export function linearWorkflow(id: string, length: number, type = 'step', config: Record<string, unknown> = {}): WorkflowDefinition {
  const nodes: NodeDefinition[] = Array.from({ length }, (_, i) => ({
    id: `s${i}`,
    type,
    config,
    inputs: i === 0 ? [] : [`s${i - 1}`],
    outputs: i === length - 1 ? [] : [`s${i + 1}`],
  }));
  return { id, name: id, entryNodeId: 's0', nodes };
}

/**
 * Extra engine config for every SPANE side of every bench, from one place: eager chains as the
 * engine's default has them (on); `BENCH_EAGER=0` turns them off, to compare with runs made before
 * they were the default.
 */
export function spaneConfigExtras(): Partial<EngineConfig> {
  return { eagerChains: eagerRequested() };
}

/** Whether the SPANE sides run eager chains: yes, unless `BENCH_EAGER=0` (see {@link spaneConfigExtras}). */
export function eagerRequested(): boolean {
  return process.env['BENCH_EAGER'] !== '0';
}

/**
 * One row of the table, as every bench writes it to `BENCH_JSON` (docs: COMMON bench
 * protocol): `ratio` is SPANE / peer in the sense of the target (throughput ratio: higher is
 * better; latency or cost multiple: lower is better).
 */
export interface BenchRow {
  figure: string;
  spane: number;
  peer: number;
  unit: string;
  ratio: number;
  target: string;
  higherIsBetter: boolean;
  note?: string;
}

/** The row of a server-time figure whose target is a ceiling of `targetMs` milliseconds. */
export function serverTimeRow(figure: string, medianMs: number, targetMs: number): BenchRow {
  return { figure, spane: medianMs, peer: targetMs, unit: 'ms', ratio: medianMs / targetMs, target: `≤ ${targetMs} ms server time`, higherIsBetter: false };
}

/** Writes `rows` to the file named by `BENCH_JSON`, if set. */
export function writeBenchJson(rows: readonly BenchRow[]): void {
  const file = process.env['BENCH_JSON'];
  if (file !== undefined && file !== '') writeFileSync(file, JSON.stringify(rows, null, 2));
}

/** The load average, formatted: `1.23 / 1.10 / 0.98 (1, 5, 15 min)`. */
export function loadAvg(): string {
  return `${os
    .loadavg()
    .map((n) => n.toFixed(2))
    .join(' / ')} (1, 5, 15 min)`;
}

/** The store methods whose calls the stores mode counts. */
export const COUNTED_METHODS = ['getExecution', 'saveNodeResult', 'transitionExecution', 'createExecution'] as const;

/** A store that tells the bench the moment an execution completes, and counts its hot-path calls. */
export type ObservedStore = ExecutionStore & { readonly completions: CompletionBoard; readonly calls: Record<(typeof COUNTED_METHODS)[number], number> };

/** Wraps `store.transitionExecution` (on the instance) so a successful move to `completed` is marked. */
export function observed<S extends ExecutionStore>(store: S): S & Pick<ObservedStore, 'completions' | 'calls'> {
  const completions = new CompletionBoard();
  const calls = { getExecution: 0, saveNodeResult: 0, transitionExecution: 0, createExecution: 0 };
  for (const method of COUNTED_METHODS) {
    const original = (store[method] as (...args: never[]) => unknown).bind(store);
    Object.assign(store, { [method]: (...args: never[]) => (calls[method]++, original(...args)) });
  }
  const transition = store.transitionExecution.bind(store);
  store.transitionExecution = async (executionId: string, from: readonly ExecutionStatus[], to: ExecutionStatus, patch?: TransitionPatch) => {
    const changed = await transition(executionId, from, to, patch);
    if (changed && to === 'completed') completions.mark(executionId);
    return changed;
  };
  return Object.assign(store, { completions, calls });
}
