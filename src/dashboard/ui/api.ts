/** The browser side of the dashboard's API: relative URLs, so the page works under any basePath. */
import type { DLQItem, ExecutionDetail, ExecutionPage, SpaneEvent, WorkflowInfo } from './types.js';

/** A refused or failed request, with the server's message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** The engine error's code, for a refused action. */
    readonly code?: string,
    /** A schema's problems (`path: message`), for a refused payload or input. */
    readonly issues?: readonly string[],
  ) {
    super(message);
  }
}

async function call<T>(path: string, init?: RequestInit): Promise<T> {
  const res = await fetch(`api/${path}`, { credentials: 'same-origin', ...init });
  const body = (await res.json().catch(() => ({}))) as { error?: string; code?: string; issues?: string[] };
  if (!res.ok) throw new ApiError(res.status, body.error ?? res.statusText, body.code, body.issues);
  return body as T;
}

function post<T>(path: string, body?: unknown): Promise<T> {
  return call<T>(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-spane-csrf': '1' },
    ...(body !== undefined && { body: JSON.stringify(body) }),
  });
}

export const api = {
  workflows: () => call<{ workflows: WorkflowInfo[] }>('workflows'),
  executions: (query: URLSearchParams) => call<ExecutionPage>(`executions?${query.toString()}`),
  execution: (id: string) => call<ExecutionDetail>(`executions/${encodeURIComponent(id)}`),
  payload: (id: string, nodeId?: string) =>
    call<{ data: unknown }>(`executions/${encodeURIComponent(id)}/payload${nodeId === undefined ? '' : `?nodeId=${encodeURIComponent(nodeId)}`}`),
  act: (id: string, action: 'pause' | 'resume' | 'cancel') => post<{ done: boolean }>(`executions/${encodeURIComponent(id)}/${action}`),
  input: (id: string, nodeId: string) => call<{ data: unknown }>(`executions/${encodeURIComponent(id)}/input?nodeId=${encodeURIComponent(nodeId)}`),
  fork: (id: string, body: { fromNodeId: string; input?: unknown; version?: number }) => post<{ executionId: string }>(`executions/${encodeURIComponent(id)}/fork`, body),
  signal: (id: string, name: string, payload: unknown) => post<{ done: boolean }>(`executions/${encodeURIComponent(id)}/signal`, { name, payload }),
  dlq: (workflowId: string) => call<{ items: DLQItem[] }>(`dlq${workflowId === '' ? '' : `?workflowId=${encodeURIComponent(workflowId)}`}`),
  retry: (ids: string[]) => post<{ results: { id: string; retried: boolean }[] }>('dlq/retry', { ids }),
};

const EVENT_TYPES = [
  'node:started',
  'node:completed',
  'node:failed',
  'node:skipped',
  'node:delayed',
  'node:retrying',
  'workflow:started',
  'workflow:completed',
  'workflow:failed',
  'workflow:paused',
  'workflow:resumed',
  'workflow:cancelled',
  'workflow:repaired',
];

/**
 * Calls `onEvent` for each engine event (of one execution, or all), and `onOpen` each time the
 * stream (re)connects, when events may have been missed; returns the function that stops.
 */
export function subscribe(executionId: string | undefined, onEvent: (event: SpaneEvent) => void, onOpen?: () => void): () => void {
  const source = new EventSource(`api/events${executionId === undefined ? '' : `?executionId=${encodeURIComponent(executionId)}`}`);
  const handler = (e: MessageEvent<string>) => {
    try {
      onEvent(JSON.parse(e.data) as SpaneEvent);
    } catch {
      // not an event: ignored
    }
  };
  for (const type of EVENT_TYPES) source.addEventListener(type, handler);
  if (onOpen !== undefined) source.addEventListener('open', () => onOpen());
  return () => source.close();
}
