/** Versions and change notes through the engine (the store contract covers each store). */
import { afterEach, describe, expect, it } from 'vitest';
import { InvalidArgumentError } from '../../src/index.js';
import { graph, node, testEngine } from '../helpers.js';
import type { TestEngine } from '../helpers.js';

describe('registerWorkflow change notes', () => {
  let t: TestEngine;
  afterEach(async () => t?.cleanup());

  it('stores notes with each new version, ignores them for an unchanged definition, and lists versions', async () => {
    t = testEngine();
    t.registry.register('work', async () => ({ success: true }));
    const v1 = graph('notes', [node('a', 'work')], []);
    const v2 = graph('notes', [node('a', 'work'), node('b', 'work')], ['a->b']);
    expect(await t.engine.registerWorkflow(v1, { changeNotes: 'first' })).toBe(1);
    expect(await t.engine.registerWorkflow(v1, { changeNotes: 'no change, ignored' })).toBe(1);
    expect(await t.engine.registerWorkflow(v2, { changeNotes: 'adds b after a' })).toBe(2);
    expect(await t.engine.registerWorkflow(v1)).toBe(3);
    const versions = await t.engine.getWorkflowVersions('notes');
    expect(versions.map(({ version, changeNotes }) => ({ version, changeNotes }))).toEqual([
      { version: 1, changeNotes: 'first' },
      { version: 2, changeNotes: 'adds b after a' },
      { version: 3, changeNotes: undefined },
    ]);
    expect(versions.every((v) => typeof v.createdAt === 'number')).toBe(true);
    expect(await t.engine.getWorkflowVersions('unknown')).toEqual([]);
  });

  it('refuses notes that are not a string before storing anything', async () => {
    t = testEngine();
    t.registry.register('work', async () => ({ success: true }));
    await expect(t.engine.registerWorkflow(graph('bad', [node('a', 'work')], []), { changeNotes: 7 as unknown as string })).rejects.toThrow(InvalidArgumentError);
    expect(await t.engine.getWorkflow('bad')).toBeUndefined();
    await expect(t.engine.getWorkflowVersions(3 as unknown as string)).rejects.toThrow(InvalidArgumentError);
  });
});
