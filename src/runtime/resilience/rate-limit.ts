import type { Redis } from 'ioredis';

/** At most `max` node runs per `duration` milliseconds. */
export interface RateLimit {
  max: number;
  duration: number;
}

/**
 * GCRA (the generic cell rate algorithm): runs are spaced `duration / max` ms apart, so no
 * window of `duration` ms holds more than `max` runs and waiting jobs are released evenly rather
 * than in bursts. One key per node type holds the theoretical arrival time; the check-and-update
 * is one atomic script.
 */
const GCRA = `
local now = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or '0')
if tat < now then tat = now end
if tat - now >= interval then return tat - interval - now + 1 end
redis.call('SET', KEYS[1], tat + interval, 'PX', math.ceil(tat + interval - now) + 1000)
return 0
`;

/**
 * Per-node-type rate limits shared by every worker on the same Redis. A run over the limit is not
 * made: {@link acquire} says how long to wait, and the caller delays the job for that long. The
 * keys live under the engine's prefix, so they stay in its Cluster slot.
 */
export class RateLimiter {
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  /** Takes a slot for `nodeType`; returns 0 when granted, else the ms to wait before trying again. */
  async acquire(nodeType: string, limit: RateLimit): Promise<number> {
    const interval = limit.duration / limit.max;
    const wait = Number(await this.redis.eval(GCRA, 1, `${this.prefix}:ratelimit:${nodeType}`, Date.now(), interval));
    // A little jitter keeps jobs that were refused together from all coming back at once.
    return wait <= 0 ? 0 : Math.ceil(wait + Math.random() * Math.min(20, interval));
  }
}
