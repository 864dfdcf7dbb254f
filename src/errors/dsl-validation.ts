/**
 * The errors a typed-DSL node fails with when a value does not match its zod schema.
 *
 * @module
 */
import type { SpaneErrorOptions } from './base.js';
import { NonRetryableError } from './common.js';
import { brand } from './brand.js';

/** Where a typed-DSL node's value failed its zod schema. */
export interface NodeValidationDetails {
  /** The workflow being run. */
  readonly workflowId: string;
  /** The node whose value was refused. */
  readonly nodeId: string;
  /** Which value was refused: the node's input, its config, or what its `run` returned. */
  readonly part: 'input' | 'config' | 'output';
  /** Path of the first refused field inside that value, e.g. `user.email`; `(root)` for the value itself. */
  readonly path: string;
  /**
   * The refused value at `path`, as JSON truncated to about 200 characters. It stays on the error
   * object, for the code that caught it: the message names only its kind (`a string`, `an
   * object`, ...), and the property is not enumerable, so logging the error, `JSON.stringify` and
   * the stored `errorDetails` leave the data out.
   */
  readonly received: string;
  /** Every problem the schema reported, one line each (`path: message`). */
  readonly issues: readonly string[];
}

function nodeValidationMessage(d: NodeValidationDetails): string {
  const head = `Workflow '${d.workflowId}', node '${d.nodeId}': ${d.part} does not match its schema at ${d.path} (received ${kindOfJson(d.received)})`;
  return [head, ...d.issues.map((i) => `  - ${i}`)].join('\n');
}

/** What kind of JSON value `json` (possibly truncated) is, for messages that must not quote it. */
function kindOfJson(json: string): string {
  const c = json.trimStart()[0];
  if (c === '"') return 'a string';
  if (c === '{') return 'an object';
  if (c === '[') return 'an array';
  if (c === 't' || c === 'f') return 'a boolean';
  if (c === 'n') return 'null';
  if (c !== undefined && /[-\d]/.test(c)) return 'a number';
  return json === '' || json === 'undefined' ? 'nothing' : 'a value that is not shown';
}

/** Keeps the refused value on the error but out of its enumerable properties (logs, JSON). */
function hideReceived(error: NodeValidationDetails): void {
  Object.defineProperty(error, 'received', { enumerable: false });
}

/**
 * A typed-DSL node received input (or config) that its zod schema refuses. A retry cannot fix
 * that, so it is a {@link NonRetryableError}: the node fails after one attempt, whatever its
 * retry policy says.
 */
export class NodeInputError extends NonRetryableError implements NodeValidationDetails {
  static {
    brand(this, 'NodeInputError');
  }

  override readonly code = 'NODE_INPUT_INVALID' as const;
  readonly workflowId: string;
  readonly nodeId: string;
  readonly part: 'input' | 'config';
  readonly path: string;
  readonly received: string;
  readonly issues: readonly string[];
  constructor(details: NodeValidationDetails & { part: 'input' | 'config' }, options?: SpaneErrorOptions) {
    super(nodeValidationMessage(details), options);
    ({ workflowId: this.workflowId, nodeId: this.nodeId, part: this.part, path: this.path, received: this.received, issues: this.issues } = details);
    hideReceived(this);
  }
}

/**
 * A typed-DSL node's `run` returned a value its output schema refuses. Non-retryable like
 * {@link NodeInputError}: running the same code again returns the same kind of value.
 */
export class NodeOutputError extends NonRetryableError implements NodeValidationDetails {
  static {
    brand(this, 'NodeOutputError');
  }

  override readonly code = 'NODE_OUTPUT_INVALID' as const;
  readonly workflowId: string;
  readonly nodeId: string;
  readonly part = 'output' as const;
  readonly path: string;
  readonly received: string;
  readonly issues: readonly string[];
  constructor(details: Omit<NodeValidationDetails, 'part'>, options?: SpaneErrorOptions) {
    super(nodeValidationMessage({ ...details, part: 'output' }), options);
    ({ workflowId: this.workflowId, nodeId: this.nodeId, path: this.path, received: this.received, issues: this.issues } = details);
    hideReceived(this);
  }
}

/**
 * The data a workflow was started with does not match the workflow's input schema (declared with
 * `workflow(id, { input })` in the DSL). Thrown before anything is stored or queued, by
 * `enqueueWorkflow`, `enqueueBulkWorkflows`, `scheduleWorkflow`, webhooks and `spane run`; a
 * sub-workflow node whose mapped input is refused fails with it, without retries. The message
 * names the workflow and each refused field, never the data.
 */
export class WorkflowInputError extends NonRetryableError {
  static {
    brand(this, 'WorkflowInputError');
  }

  override readonly code = 'WORKFLOW_INPUT_INVALID' as const;
  /** The workflow whose input was refused. */
  readonly workflowId: string;
  /** Every problem the schema reported, one line each (`path: message`). */
  readonly issues: readonly string[];
  constructor(workflowId: string, issues: readonly string[], options?: SpaneErrorOptions) {
    super([`Workflow '${workflowId}': input does not match the workflow's input schema`, ...issues.map((i) => `  - ${i}`)].join('\n'), options);
    this.workflowId = workflowId;
    this.issues = issues;
  }
}
