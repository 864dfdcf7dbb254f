import { describe, expect, it } from 'vitest';
import { Batcher } from '../../src/store/drizzle/batcher.js';

/** A batch runner whose batches finish when the test says so. */
function controlledRunner(fail: (item: number) => boolean = () => false) {
  const batches: number[][] = [];
  const finish: (() => void)[] = [];
  const run = (items: readonly number[]) => {
    batches.push([...items]);
    return new Promise<number[]>((resolve, reject) => {
      finish.push(() => (items.some(fail) ? reject(new Error(`bad item in [${items.join(',')}]`)) : resolve(items.map((i) => i * 10))));
    });
  };
  return { batches, finish, run };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('Batcher', () => {
  it('sends a lone call at once, as a batch of one, and gives it its result', async () => {
    const r = controlledRunner();
    const b = new Batcher({ run: r.run, maxInFlight: 2, maxBatch: 10 });
    const p = b.call(1);
    await tick();
    expect(r.batches).toEqual([[1]]);
    r.finish[0]!();
    await expect(p).resolves.toBe(10);
  });

  it('groups calls made in the same turn, and calls made while every slot is busy', async () => {
    const r = controlledRunner();
    const b = new Batcher({ run: r.run, maxInFlight: 1, maxBatch: 10 });
    const first = [b.call(1), b.call(2)];
    await tick();
    const later = [b.call(3), b.call(4), b.call(5)];
    await tick();
    expect(r.batches).toEqual([[1, 2]]);
    r.finish[0]!();
    await tick();
    expect(r.batches).toEqual([
      [1, 2],
      [3, 4, 5],
    ]);
    r.finish[1]!();
    expect(await Promise.all([...first, ...later])).toEqual([10, 20, 30, 40, 50]);
  });

  it('keeps up to maxInFlight batches going and splits at maxBatch', async () => {
    const r = controlledRunner();
    const b = new Batcher({ run: r.run, maxInFlight: 2, maxBatch: 2 });
    const all = [1, 2, 3, 4, 5].map((i) => b.call(i));
    await tick();
    expect(r.batches).toEqual([
      [1, 2],
      [3, 4],
    ]);
    r.finish[1]!();
    await tick();
    expect(r.batches).toEqual([[1, 2], [3, 4], [5]]);
    r.finish[0]!();
    r.finish[2]!();
    expect(await Promise.all(all)).toEqual([10, 20, 30, 40, 50]);
  });

  it('retries a failed batch item by item, so only the bad item fails', async () => {
    const r = controlledRunner((i) => i === 2);
    const b = new Batcher({ run: r.run, maxInFlight: 1, maxBatch: 10 });
    const calls = [1, 2, 3].map((i) => b.call(i));
    await tick();
    r.finish[0]!();
    await tick();
    expect(r.batches).toEqual([[1, 2, 3], [1], [2], [3]]);
    for (const f of r.finish.slice(1)) f();
    const settled = await Promise.allSettled(calls);
    expect(settled.map((s) => s.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((settled[1] as PromiseRejectedResult).reason).toEqual(new Error('bad item in [2]'));
  });

  it('rejects a lone failing call with its error, and keeps serving calls afterwards', async () => {
    let broken = true;
    const b = new Batcher<number, number>({
      run: async (items) => {
        if (broken) throw new Error('down');
        return items.map((i) => i + 1);
      },
      maxInFlight: 1,
      maxBatch: 10,
    });
    await expect(b.call(1)).rejects.toThrow('down');
    broken = false;
    await expect(b.call(1)).resolves.toBe(2);
  });
});
