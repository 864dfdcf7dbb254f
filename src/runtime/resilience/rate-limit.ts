import type { Redis } from 'ioredis';

/** At most `max` node runs per `duration` milliseconds. */
export interface RateLimit {
  max: number;
  duration: number;
}

/** Where the GCRA state lives when it is not Redis: one atomic check-and-update per call. */
export interface GcraStore {
  /**
   * Takes a slot of `key` spaced `interval` ms apart at time `now` (epoch ms; a store with a
   * shared clock of its own, such as a database, may use that instead); returns 0 when granted,
   * else the ms to wait.
   */
  gcra(key: string, now: number, interval: number): Promise<number>;
}

function isGcraStore(value: object): value is GcraStore {
  return typeof (value as Partial<GcraStore>).gcra === 'function';
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
  /**
   * @param redis - the Redis that holds the counters, or (on the PostgreSQL backends) a
   * {@link GcraStore} that runs the same algorithm in SQL.
   */
  constructor(
    private readonly redis: Redis | GcraStore,
    private readonly prefix: string,
  ) {}

  /** Takes a slot for `nodeType`; returns 0 when granted, else the ms to wait before trying again. */
  async acquire(nodeType: string, limit: RateLimit): Promise<number> {
    const interval = limit.duration / limit.max;
    const key = `${this.prefix}:ratelimit:${nodeType}`;
    const now = Date.now();
    const wait = isGcraStore(this.redis) ? await this.redis.gcra(key, now, interval) : Number(await this.redis.eval(GCRA, 1, key, now, interval));
    // A little jitter keeps jobs that were refused together from all coming back at once.
    return wait <= 0 ? 0 : Math.ceil(wait + Math.random() * Math.min(20, interval));
  }
}
