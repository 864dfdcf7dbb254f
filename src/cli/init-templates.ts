/**
 * The files `spane init` writes: a workflow written with the DSL, a test of it, a tsconfig and a
 * README. package.json is made (or completed) by the command itself, see commands/init.ts.
 *
 * The project runs without compiling: `spane run` loads the TypeScript as it is, and the test
 * script loads it through `spane/register`. Imports name the `.ts` file, as Node's own type
 * stripping requires, so the files also run on a Node version that strips types by itself.
 *
 * @module
 */

/** Where the workflow lives, relative to the project folder. */
export const WORKFLOW_FILE = 'workflows/hello.ts';

/** Where its test lives. */
export const TEST_FILE = 'test/hello.test.ts';

/** The scripts the project gets. */
export const INIT_SCRIPTS: Readonly<Record<string, string>> = {
  start: `spane run ${WORKFLOW_FILE}`,
  test: `node --import spane/register --test ${TEST_FILE}`,
};

const WORKFLOW = `/**
 * A first SPANE workflow: greet someone, then shout the greeting.
 *
 *   npm start                                   # npx spane run workflows/hello.ts
 *   npx spane run workflows/hello.ts --input '{"name":"Ada"}'
 */
import { z } from 'zod';
import { defineNode, transform, workflow } from 'spane';

/** A node kind: zod checks its input and its output on every run. */
const greet = defineNode({
  type: 'greet',
  input: z.object({ name: z.string().min(1) }),
  output: z.object({ greeting: z.string() }),
  run: ({ input }) => ({ greeting: \`Hello, \${input.name}!\` }),
});

/** A built-in kind: a plain function as a node. */
const shout = transform('shout', ({ greeting }: { greeting: string }) => ({ greeting: greeting.toUpperCase() }));

/** The workflow: the builder checks at compile time that each node takes what its parent gives. */
export const hello = workflow('hello', { input: z.object({ name: z.string() }) })
  .then('greet', greet())
  .then('shout', shout)
  .build();

/** What \`spane run\` starts the workflow with when no --input is given. */
export const input = { name: 'world' };
`;

const TEST = `/**
 * Runs the workflow with spane/testing: a real engine in this process (no Redis, no PostgreSQL),
 * one per test, and checks what it returns. \`t.mockNode(...)\` replaces a node and
 * \`t.advanceTime('1h')\` skips time; see SPANE's docs/testing.md.
 *
 *   npm test
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createTestEngine } from 'spane/testing';
import { hello } from '../workflows/hello.ts';

test('hello greets by name, then shouts', async () => {
  const t = await createTestEngine({ workflows: [hello] });
  try {
    const run = await t.run(hello, { name: 'Ada' });
    assert.equal(run.status, 'completed');
    assert.deepEqual(run.nodes['greet']?.data, { greeting: 'Hello, Ada!' });
    assert.deepEqual(run.output, { greeting: 'HELLO, ADA!' });
  } finally {
    await t.close();
  }
});

test('an input the workflow refuses fails the first node', async () => {
  const t = await createTestEngine({ workflows: [hello] });
  try {
    const run = await t.run(hello.id, { name: '' });
    assert.equal(run.status, 'failed');
  } finally {
    await t.close();
  }
});
`;

/** Strict, no emit: the code runs as TypeScript; `tsc` only checks it. */
const TSCONFIG = `${JSON.stringify(
  {
    compilerOptions: {
      target: 'es2022',
      module: 'nodenext',
      moduleResolution: 'nodenext',
      strict: true,
      noEmit: true,
      allowImportingTsExtensions: true,
      skipLibCheck: true,
    },
    include: ['workflows', 'test'],
  },
  null,
  2,
)}\n`;

function readme(name: string): string {
  return `# ${name}

A [SPANE](https://www.npmjs.com/package/spane) workflow project: \`${WORKFLOW_FILE}\` is written with the typed DSL, \`${TEST_FILE}\` runs it.

- \`npm start\` runs one execution of the workflow and prints its result (no Redis or PostgreSQL needed: \`spane run\` uses the embedded backend).
- \`npm test\` runs the test with Node's test runner.
- To type-check: \`npm install --save-dev typescript @types/node && npx tsc\`.
`;
}

/** The files `spane init` writes besides package.json, by path relative to the project. */
export function initFiles(projectName: string): Readonly<Record<string, string>> {
  return {
    'tsconfig.json': TSCONFIG,
    [WORKFLOW_FILE]: WORKFLOW,
    [TEST_FILE]: TEST,
    'README.md': readme(projectName),
  };
}
