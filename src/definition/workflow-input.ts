/**
 * Checks the data a workflow starts with against the input schema a DSL-built workflow carries.
 *
 * @module
 */
import { WorkflowInputError } from '../errors.js';
import { WORKFLOW_INPUT_SCHEMA } from './types.js';
import type { SchemaIssue, WorkflowDefinitionWithExecutors, WorkflowInputSchema } from './types.js';

/** At most this many issues are listed in a {@link WorkflowInputError}. */
const MAX_ISSUES = 20;

/** The input schema a built workflow carries, if any. */
export function inputSchemaOf(workflow: WorkflowDefinitionWithExecutors): WorkflowInputSchema | undefined {
  const schema: unknown = workflow?.[WORKFLOW_INPUT_SCHEMA];
  return typeof schema === 'object' && schema !== null && typeof (schema as Partial<WorkflowInputSchema>)['~standard']?.validate === 'function'
    ? (schema as WorkflowInputSchema)
    : undefined;
}

/**
 * Throws a {@link WorkflowInputError} when `schema` refuses `data`. The error lists each refused
 * field with the schema's message, and never the data itself.
 */
export async function checkInputAgainst(workflowId: string, schema: WorkflowInputSchema | undefined, data: unknown): Promise<void> {
  if (schema === undefined) return;
  const result = await schema['~standard'].validate(data);
  const issues = result.issues;
  if (issues === undefined || issues.length === 0) return;
  const lines = issues.slice(0, MAX_ISSUES).map((i) => `${issuePath(i)}: ${i.message}`);
  if (issues.length > MAX_ISSUES) lines.push(`... and ${issues.length - MAX_ISSUES} more`);
  throw new WorkflowInputError(workflowId, lines);
}

/** Checks a start of a built workflow (no-op for a JSON definition, which carries no schema). */
export function checkWorkflowInput(workflow: WorkflowDefinitionWithExecutors, data: unknown): Promise<void> {
  return checkInputAgainst(workflow.id, inputSchemaOf(workflow), data);
}

/** `user.emails[0]`, or `(root)` for the value itself. */
function issuePath(issue: SchemaIssue): string {
  let text = '';
  for (const segment of issue.path ?? []) {
    const key = typeof segment === 'object' && segment !== null ? segment.key : segment;
    text += typeof key === 'number' ? `[${key}]` : `${text === '' ? '' : '.'}${String(key)}`;
  }
  return text === '' ? '(root)' : text;
}
