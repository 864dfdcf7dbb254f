/**
 * Testing a workflow with `spane/testing`: examples/hello.ts under `node:test`, in this process,
 * with no Redis or PostgreSQL server. Its `wait` delay is skipped with `advanceTime`, and one test
 * replaces the `greet` node with a mock.
 *
 *   node --import tsx --test examples/testing.test.ts
 *
 * (With vitest, the same code runs inside `it(...)`; see docs/testing.md.)
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createTestEngine } from 'spane/testing';
import { hello } from './hello.js';

void test('hello shouts the greeting', async () => {
  await using t = await createTestEngine({ workflows: [hello] });
  const run = await t.run(hello, { name: 'Ada' });
  assert.equal(run.status, 'completed');
  assert.deepEqual(run.output, { message: 'HELLO, ADA!', length: 11 });
});

void test('the delay is skipped, and greet can be mocked', async () => {
  await using t = await createTestEngine({ workflows: [hello] });
  const greet = t.mockNode('greet', (input: { name: string }) => ({ message: `Bonjour, ${input.name}` }));
  const id = await t.start(hello, { name: 'Grace' });
  await t.advanceTime('1s'); // the 100 ms `wait` fires without waiting
  const run = await t.wait<typeof hello>(id);
  assert.deepEqual(run.output, { message: 'BONJOUR, GRACE', length: 14 });
  assert.deepEqual(
    greet.calls.map((c) => c.input),
    [{ name: 'Grace' }],
  );
});
