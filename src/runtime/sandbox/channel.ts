/**
 * What worker threads tell their engine in the main thread, over a BroadcastChannel (a
 * process-local channel, separate from BullMQ's own messages): log lines for the engine's logger
 * and the events the thread published, for the engine's local observers (metrics).
 *
 * @module
 */
import { BroadcastChannel } from 'node:worker_threads';
import type { SpaneEvent } from '../observe/events.js';
import type { Logger } from '../engine/runtime.js';
import { consoleLogger } from '../engine/runtime.js';

/** One message from a worker thread. */
export type SandboxMessage =
  | { kind: 'log'; level: 'warn' | 'error'; message: string; details?: Record<string, unknown> | undefined; threadId: number }
  | { kind: 'event'; event: SpaneEvent }
  | { kind: 'crash'; jobId: string | undefined; threadId: number; error: string; stack?: string | undefined };

/** Opens the channel without keeping the thread (or process) alive for it. */
export function openChannel(name: string): BroadcastChannel {
  const channel = new BroadcastChannel(name);
  (channel as unknown as { unref?: () => void }).unref?.();
  return channel;
}

/** Posts without ever throwing (an uncloneable payload is dropped). */
export function post(channel: BroadcastChannel | undefined, message: SandboxMessage): boolean {
  if (channel === undefined) return false;
  try {
    channel.postMessage(message);
    return true;
  } catch {
    return false;
  }
}

/** A logger that sends to the engine's logger through the channel, or to the console without one. */
export function channelLogger(channel: BroadcastChannel | undefined, threadId: number): Logger {
  const send = (level: 'warn' | 'error') => (message: string, details?: Record<string, unknown>) => {
    const ok = post(channel, { kind: 'log', level, message, details: plain(details), threadId });
    if (!ok) consoleLogger[level](`[thread ${threadId}] ${message}`, details);
  };
  return { warn: send('warn'), error: send('error') };
}

function plain(details: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  if (details === undefined) return undefined;
  try {
    return JSON.parse(JSON.stringify(details)) as Record<string, unknown>;
  } catch {
    // Details that cannot be cloned (a cycle, a BigInt) go as text rather than lose the log line.
    return { details: String(details) };
  }
}
