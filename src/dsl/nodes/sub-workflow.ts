/**
 * `subWorkflow`: run another workflow as one node.
 *
 * @module
 */
import { createKind } from '../node.js';
import type { NodeKind, NodeSpec } from '../node.types.js';
import type { WorkflowInput } from '../compile.js';

/**
 * Options of {@link subWorkflow}.
 *
 * @example
 * ```ts
 * subWorkflow(payment, { inputMapping: { amount: 'orderTotal' }, outputMapping: { transactionId: 'paymentId' }, continueOnFail: false });
 * ```
 */
export interface SubWorkflowOptions<TInputMapping extends Record<string, string>, TOutputMapping extends Record<string, string>> {
  /** Child input key → path in this node's input. Without it the child gets the input as is. */
  inputMapping?: TInputMapping;
  /** This node's output key → path in the child's result. Without it the node outputs the child's result. */
  outputMapping?: TOutputMapping;
  /**
   * Let the child execution continue past failing nodes, giving partial results.
   * @defaultValue false
   */
  continueOnFail?: boolean;
}

type SubInput<W, TIn extends Record<string, string>> = [keyof TIn] extends [never] ? WorkflowInput<W> : { [K in TIn[keyof TIn] as K extends `${infer Head}.${string}` ? Head : K]: unknown };
type SubOutput<TOut extends Record<string, string>> = [keyof TOut] extends [never] ? unknown : { -readonly [K in keyof TOut]: unknown };

const subWorkflowKind = createKind<NodeKind<'sub-workflow', Record<string, unknown>, unknown, unknown>>({ type: 'sub-workflow', role: 'sub-workflow', schemas: {} });

/**
 * A node that runs another registered workflow and hands on its result. Compiles to
 * `{ type: 'sub-workflow', config: { workflowId, inputMapping, outputMapping } }`. Given a built
 * workflow, the node's input must be that workflow's input (unless `inputMapping` reshapes it);
 * mapped values are typed `unknown` for now.
 *
 * The child must be registered before the parent runs it. Mapping paths are not checked against
 * the child's schemas yet.
 *
 * @example
 * ```ts
 * const payment = workflow('payment', { input: Payment }).then('charge', charge()).build();
 * workflow('order', { input: Order })
 *   .then('pay', subWorkflow(payment, { inputMapping: { amount: 'orderTotal' }, outputMapping: { transactionId: 'paymentId' } }));
 * ```
 */
export function subWorkflow<W extends { readonly id: string } | string, const TIn extends Record<string, string> = {}, const TOut extends Record<string, string> = {}>(
  child: W,
  options: SubWorkflowOptions<TIn, TOut> = {},
): NodeSpec<SubInput<W, TIn>, SubOutput<TOut>> {
  const workflowId = typeof child === 'string' ? child : child.id;
  return subWorkflowKind({
    workflowId,
    ...(options.inputMapping !== undefined && { inputMapping: { ...options.inputMapping } }),
    ...(options.outputMapping !== undefined && { outputMapping: { ...options.outputMapping } }),
    ...(options.continueOnFail !== undefined && { continueOnFail: options.continueOnFail }),
  }) as NodeSpec<SubInput<W, TIn>, SubOutput<TOut>>;
}
