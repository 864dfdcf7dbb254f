/**
 * Markdown docs for a workflow definition: a Mermaid graph, a node table with the IO fields of
 * the embedded JSON Schema, and the triggers. Works on any definition; DSL-built ones add the
 * schema columns.
 *
 * @module
 */
import { BUILTIN_NODE_KINDS, isBuiltinNodeKind } from '../definition/node-kinds.js';
import type { BuiltinNodeKind } from '../definition/node-kinds.js';
import { ownValue } from '../definition/own.js';
import { InvalidArgumentError } from '../errors.js';
import type { NodeDefinition, WorkflowDefinition } from '../definition/types.js';
import { RESERVED_CONFIG_KEYS } from './executor.js';
import type { JsonSchema, NodeSchemas, WorkflowSchemas } from './compile.js';

/** A definition, with the `schemas` field `build()` adds when it has one. */
export type DocumentedWorkflow = WorkflowDefinition & { readonly schemas?: WorkflowSchemas };

/**
 * Options of {@link renderMarkdown}.
 *
 * @example
 * ```ts
 * renderWorkflowMarkdown(onboarding, { headingLevel: 2 }); // '## `onboarding`' ...
 * ```
 */
export interface RenderOptions {
  /**
   * Level of the title heading; sections are one level below.
   * @defaultValue 1
   */
  headingLevel?: number;
}

/**
 * A Mermaid `flowchart` of the workflow: one box per node (routers as diamonds, delays as
 * stadiums, sub-workflows as subroutines, signals as hexagons) and one arrow per edge (dotted from a router).
 *
 * @example
 * ```ts
 * console.log(renderMermaid(onboarding));
 * // flowchart TD
 * //   n0["fetch<br/>fetch-user"]
 * //   ...
 * ```
 */
export function renderMermaid(def: DocumentedWorkflow): string {
  assertDocumented('renderMermaid', def);
  const key = new Map(def.nodes.map((n, i) => [n.id, `n${i}`]));
  const lines = ['flowchart TD'];
  for (const n of def.nodes) lines.push(`  ${key.get(n.id)}${shape(n, roleOf(def, n), `${n.id}<br/>${n.type}`)}`);
  for (const n of def.nodes) {
    const arrow = roleOf(def, n) === 'router' ? '-.->' : '-->';
    for (const child of n.outputs) if (key.has(child)) lines.push(`  ${key.get(n.id)} ${arrow} ${key.get(child)}`);
  }
  return lines.join('\n');
}

/**
 * The whole page: title, description, input fields, Mermaid graph, node table (type, parents,
 * config, input and output fields, retry settings) and triggers.
 *
 * @example
 * ```ts
 * import { writeFile } from 'node:fs/promises';
 * await writeFile(`docs/workflows/${onboarding.id}.md`, renderWorkflowMarkdown(onboarding));
 * ```
 */
export function renderMarkdown(def: DocumentedWorkflow, options: RenderOptions = {}): string {
  assertDocumented('renderWorkflowMarkdown', def);
  const h = '#'.repeat(Math.max(1, options.headingLevel ?? 1));
  const out: string[] = [`${h} ${def.name === def.id ? `\`${def.id}\`` : `${def.name} (\`${def.id}\`)`}`, ''];
  if (def.description !== undefined) out.push(def.description, '');
  if (def.schemas?.input !== undefined) out.push(`${h}# Input`, '', fieldList(def.schemas.input, '\n'), '');
  out.push(`${h}# Graph`, '', '```mermaid', renderMermaid(def), '```', '');
  out.push(`${h}# Nodes`, '', '| Node | Type | After | Config | Input | Output |', '|---|---|---|---|---|---|');
  for (const n of def.nodes) {
    const s = schemasOf(def, n.id);
    const name = `\`${n.id}\`${n.id === def.entryNodeId ? ' (entry)' : ''}${n.name !== undefined ? `<br>${n.name}` : ''}${s?.description !== undefined ? `<br>${s.description}` : ''}`;
    const after = n.inputs.length === 0 ? '—' : n.inputs.map((p) => `\`${p}\``).join(', ');
    const input = s?.input !== undefined ? fieldList(s.input, '<br>') : '—';
    const output = s?.output !== undefined ? fieldList(s.output, '<br>') : '—';
    out.push(`| ${[name, `\`${n.type}\``, after, configCell(n), input, output].map(cell).join(' | ')} |`);
  }
  out.push('');
  if (def.triggers !== undefined && def.triggers.length > 0) {
    out.push(`${h}# Triggers`, '');
    for (const t of def.triggers) {
      if (t.type === 'schedule') {
        out.push(
          `- Schedule \`${t.config.cron}\`${t.config.timezone !== undefined ? ` (${t.config.timezone})` : ''}${t.config.data !== undefined ? ` with data \`${JSON.stringify(t.config.data)}\`` : ''}`,
        );
      } else {
        out.push(`- Webhook \`${t.config.method ?? 'any method'} /${t.config.path.replace(/^\//, '')}\`${t.config.secret !== undefined ? ' (signed)' : ''}`);
      }
    }
    out.push('');
  }
  return out.join('\n');
}

/** The schemas recorded for node `id`; own entries only, so a node named `constructor` finds none by accident. */
function schemasOf(def: DocumentedWorkflow, id: string): NodeSchemas | undefined {
  const nodes = def.schemas?.nodes;
  return nodes === undefined ? undefined : ownValue(nodes, id);
}

function roleOf(def: DocumentedWorkflow, n: NodeDefinition): NodeSchemas['role'] {
  const role = schemasOf(def, n.id)?.role;
  if (role !== undefined) return role;
  return isBuiltinNodeKind(n.type) ? n.type : 'node';
}

function shape(n: NodeDefinition, role: NodeSchemas['role'], label: string): string {
  const text = `"${label.replace(/"/g, '#quot;')}"`;
  if (isBuiltinNodeKind(role)) return BUILTIN_SHAPES[role](text);
  if (role === 'router') return `{${text}}`;
  return n.inputs.length === 0 ? `[/${text}/]` : `[${text}]`;
}

/** The Mermaid shape of each built-in kind's node, around its quoted label. */
const BUILTIN_SHAPES: { readonly [K in BuiltinNodeKind]: (text: string) => string } = {
  [BUILTIN_NODE_KINDS.delay]: (text) => `([${text}])`,
  [BUILTIN_NODE_KINDS.subWorkflow]: (text) => `[[${text}]]`,
  [BUILTIN_NODE_KINDS.signal]: (text) => `{{${text}}}`,
  [BUILTIN_NODE_KINDS.event]: (text) => `{{${text}}}`,
};

function configCell(n: NodeDefinition): string {
  const parts: string[] = [];
  const user: Record<string, unknown> = { ...n.config };
  for (const k of RESERVED_CONFIG_KEYS) delete user[k];
  if (Object.keys(user).length > 0) parts.push(`\`${short(JSON.stringify(user), 120)}\``);
  const retry = n.config.retryPolicy ?? n.retryPolicy;
  if (retry?.maxAttempts !== undefined) parts.push(`retries: ${retry.maxAttempts} attempts${retry.backoff ? `, ${retry.backoff.type} ${retry.backoff.delay} ms` : ''}`);
  if (retry?.continueOnFail === true) parts.push('continue on fail');
  if (n.config.circuitBreaker !== undefined) parts.push(`circuit breaker \`${JSON.stringify(n.config.circuitBreaker)}\``);
  return parts.length === 0 ? '—' : parts.join('<br>');
}

/** `userId: number` lines for an object schema, or the type for any other. */
function fieldList(schema: JsonSchema, sep: string): string {
  const props = schema['properties'];
  if (schema['type'] !== 'object' || typeof props !== 'object' || props === null) return `\`${typeText(schema, 0)}\``;
  const required = new Set(Array.isArray(schema['required']) ? (schema['required'] as string[]) : []);
  const entries = Object.entries(props as Record<string, JsonSchema>);
  if (entries.length === 0) return '`{}`';
  return entries.map(([k, v]) => `\`${k}${required.has(k) ? '' : '?'}: ${typeText(v, 1)}\``).join(sep);
}

/** A short TypeScript-like rendering of a JSON Schema. */
function typeText(s: JsonSchema, depth: number): string {
  if (Array.isArray(s['enum'])) return (s['enum'] as unknown[]).map((v) => JSON.stringify(v)).join(' | ');
  if ('const' in s) return JSON.stringify(s['const']);
  for (const key of ['anyOf', 'oneOf']) {
    const options = s[key];
    if (Array.isArray(options)) return (options as JsonSchema[]).map((o) => typeText(o, depth)).join(' | ');
  }
  const type = s['type'];
  if (Array.isArray(type)) return type.join(' | ');
  switch (type) {
    case 'array':
      return `${wrap(typeof s['items'] === 'object' && s['items'] !== null ? typeText(s['items'] as JsonSchema, depth + 1) : 'unknown')}[]`;
    case 'object': {
      const props = s['properties'];
      if (typeof props !== 'object' || props === null || depth > 2) return 'object';
      const required = new Set(Array.isArray(s['required']) ? (s['required'] as string[]) : []);
      return `{ ${Object.entries(props as Record<string, JsonSchema>)
        .map(([k, v]) => `${k}${required.has(k) ? '' : '?'}: ${typeText(v, depth + 1)}`)
        .join('; ')} }`;
    }
    case 'string':
      return typeof s['format'] === 'string' ? `string (${s['format']})` : 'string';
    case 'integer':
      return 'integer';
    case undefined:
      return 'any';
    default:
      return String(type);
  }
}

function wrap(t: string): string {
  return t.includes(' ') ? `(${t})` : t;
}

function short(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** Makes text safe inside a Markdown table cell. */
function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, '<br>');
}

function assertDocumented(method: string, def: unknown): void {
  if (typeof def === 'object' && def !== null && Array.isArray((def as { nodes?: unknown }).nodes)) return;
  throw new InvalidArgumentError(`${method} expects a workflow definition (with nodes)`);
}
