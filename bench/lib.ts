/** Helpers shared by the benchmarks. */
import { readFileSync } from 'node:fs';

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
