/** Small helpers shared by the DSL examples (no workflows here). */
import { pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';

/** The Redis the examples use. */
export const redisUrl = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';

/** Whether Redis answers, so an example fails fast with a hint instead of retrying forever. */
export async function redisReachable(url = redisUrl): Promise<boolean> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null });
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    return (await redis.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    redis.disconnect();
  }
}

/** Whether the module at `moduleUrl` was started directly (not imported, e.g. by the docs generator). */
export function isMain(moduleUrl: string): boolean {
  return moduleUrl === pathToFileURL(process.argv[1] ?? '').href;
}
