/**
 * `spane graph <file>`: a workflow's graph as Mermaid or JSON.
 *
 * @module
 */
import { renderMermaid } from '../../dsl/docs.js';
import type { GraphFormat } from '../choices.js';
import type { CliIO } from '../io.js';
import { println } from '../io.js';
import { loadWorkflowModule, selectWorkflow } from '../workflow-module.js';

/** Options of {@link graphCommand}. */
export interface GraphOptions {
  format: GraphFormat;
  /** Only this workflow; else every workflow of the file. */
  workflow?: string | undefined;
}

/**
 * Prints the graph: Mermaid `flowchart` text (one per workflow, each after a `%% <id>` comment
 * line), or the definition as JSON (an object for one workflow, an array for several).
 */
export async function graphCommand(file: string, options: GraphOptions, io: CliIO): Promise<number> {
  const mod = await loadWorkflowModule(file, io.cwd);
  const workflows = options.workflow === undefined ? mod.workflows : [selectWorkflow(mod, options.workflow)];
  if (options.format === 'json') {
    println(io.stdout, JSON.stringify(workflows.length === 1 ? workflows[0] : workflows, null, 2));
    return 0;
  }
  workflows.forEach((w, i) => {
    if (i > 0) println(io.stdout);
    println(io.stdout, `%% ${w.id}`);
    println(io.stdout, renderMermaid(w));
  });
  return 0;
}
