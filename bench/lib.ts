/** Helpers shared by the benchmarks. */
import { performance } from 'node:perf_hooks';
import { readFileSync } from 'node:fs';
import type { NodeDefinition, WorkflowDefinition } from '../src/index.js';

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
