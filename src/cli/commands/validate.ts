/**
 * `spane validate <file...>`: every problem of every workflow, one per line.
 *
 * @module
 */
import { BUILT_IN_NODE_TYPES, findWorkflowIssues } from '../../definition/validate.js';
import { NODE_EXECUTORS } from '../../definition/types.js';
import { WorkflowModuleError } from '../../errors.js';
import type { CliIO } from '../io.js';
import { println, stackOf } from '../io.js';
import { hasExecutors, loadWorkflowModule, validationFailureOf } from '../workflow-module.js';

/**
 * Validates the workflows of each file and prints `file: workflow: path: message` per problem
 * (on stdout) or `file: workflow: ok (n nodes)`. Node types are checked when the module provides
 * executors. Returns 1 when any problem was found or a file could not be used, else 0.
 */
export async function validateCommand(files: readonly string[], io: CliIO): Promise<number> {
  let failed = false;
  for (const file of files) {
    let mod;
    try {
      mod = await loadWorkflowModule(file, io.cwd);
    } catch (err) {
      // A DSL .build() that refuses its graph throws while the module loads: list its problems.
      const refused = validationFailureOf(err);
      failed = true;
      if (refused === undefined) {
        // The other files still get checked; this one is reported like a problem.
        const message = err instanceof Error ? err.message : String(err);
        println(io.stdout, err instanceof WorkflowModuleError ? message : `${file}: ${message}`);
        if (io.verbose === true) println(io.stderr, stackOf(err));
        continue;
      }
      for (const issue of refused.issues) println(io.stdout, `${file}: ${refused.workflowId ?? '(no id)'}: ${issue.path}: ${issue.message}`);
      continue;
    }
    const checkTypes = hasExecutors(mod);
    const custom = mod.workflows.some((w) => w.nodes.some((n) => !BUILT_IN_NODE_TYPES.has(n.type)));
    if (!checkTypes && custom) println(io.stderr, `${file}: node types not checked (the module exports no executors)`);
    for (const w of mod.workflows) {
      const carried = new Set((w[NODE_EXECUTORS] ?? []).map((c) => c.type));
      const hasNodeType = checkTypes ? (t: string) => carried.has(t) || mod.registry?.has(t) === true : undefined;
      const issues = findWorkflowIssues(w, hasNodeType === undefined ? {} : { hasNodeType });
      if (issues.length === 0) println(io.stdout, `${file}: ${w.id}: ok (${w.nodes.length} node${w.nodes.length === 1 ? '' : 's'})`);
      for (const issue of issues) println(io.stdout, `${file}: ${w.id}: ${issue.path}: ${issue.message}`);
      if (issues.length > 0) failed = true;
    }
  }
  return failed ? 1 : 0;
}
