/** One execution: its DAG with each node's live state, a timeline, the selected node's data, actions. */
import { useEffect, useMemo, useState } from 'react';
import { api, subscribe } from './api.js';
import { WorkflowGraph } from './graph.js';
import { ForkForm, SignalForm } from './node-actions.js';
import type { ExecutionDetail, NodeState, SpaneEvent } from './types.js';
import { Badge, duration, ErrorBlock, href, Json, time, useLoad } from './util.js';

/** What the events say of a node that has no stored result yet. */
type Live = Record<string, { state: NodeState; since: number; attempt?: number }>;

function liveState(e: SpaneEvent): NodeState | undefined {
  switch (e.type) {
    case 'node:started':
    case 'node:retrying':
      return 'running';
    case 'node:delayed':
      return 'waiting';
    case 'node:completed':
      return 'completed';
    case 'node:failed':
      return 'failed';
    case 'node:skipped':
      return 'skipped';
    default:
      return undefined;
  }
}

function states(detail: ExecutionDetail, live: Live): Record<string, NodeState> {
  const out: Record<string, NodeState> = {};
  const { execution } = detail;
  for (const n of detail.graph?.nodes ?? []) {
    const result = execution.nodeResults[n.id];
    const seen = live[n.id];
    if (result !== undefined && (seen === undefined || seen.since <= result.completedAt)) out[n.id] = result.status;
    else if (seen !== undefined) out[n.id] = seen.state;
    else if (waitingSignal(detail, n.id) !== undefined) out[n.id] = 'waiting';
    else out[n.id] = execution.status === 'paused' ? 'paused' : 'pending';
  }
  return out;
}

/** The signal a node waits for, per the store's waits; undefined when it does not wait. */
function waitingSignal(detail: ExecutionDetail, nodeId: string): string | undefined {
  return detail.waits.find((w) => w.kind === 'signal' && w.state === 'waiting' && w.nodeId === nodeId)?.key;
}

const FINISHED = ['completed', 'failed', 'cancelled'];

export function ExecutionPage({ id }: { id: string }) {
  const { data, error, reload } = useLoad(() => api.execution(id), [id]);
  const [live, setLive] = useState<Live>({});
  const [selected, setSelected] = useState<string | undefined>();
  const [message, setMessage] = useState<string | undefined>();
  useEffect(() => {
    setLive({});
    return subscribe(
      id,
      (e) => {
        const state = liveState(e);
        if (e.nodeId !== undefined && state !== undefined) {
          const nodeId = e.nodeId;
          setLive((l) => ({ ...l, [nodeId]: { state, since: e.timestamp, ...(e.attempt !== undefined && { attempt: e.attempt }) } }));
        }
        // A node settled or the execution moved: read this execution again (one request).
        // A node that starts waiting: read its wait (the signal it waits for).
        if (e.type.startsWith('workflow:') || state === 'waiting' || state === 'completed' || state === 'failed' || state === 'skipped') reload();
      },
      reload,
    );
  }, [id]);
  const nodeStates = useMemo(() => (data === undefined ? {} : states(data, live)), [data, live]);
  if (error !== undefined) return <div className="error">{error}</div>;
  if (data === undefined) return <div className="muted">Loading…</div>;
  const { execution, graph, children } = data;
  const attempts: Record<string, number> = {};
  for (const [n, r] of Object.entries(execution.nodeResults)) attempts[n] = r.attempts;
  const act = (action: 'pause' | 'resume' | 'cancel') =>
    api.act(id, action).then(
      (r) => {
        setMessage(r.done ? `${action}: done` : `${action}: not possible now`);
        reload();
      },
      (e: unknown) => setMessage(e instanceof Error ? e.message : String(e)),
    );
  const running = execution.status === 'running' || execution.status === 'pending';
  return (
    <div data-testid="execution">
      <header className="card-head">
        <h2>
          {execution.workflowId} <span className="muted">v{execution.workflowVersion}</span>
        </h2>
        <code data-testid="execution-id">{execution.executionId}</code>
        <span data-testid="execution-status">
          <Badge status={execution.status} />
        </span>
        <span className="muted">
          {time(execution.startedAt)} · {duration(execution.startedAt, execution.completedAt ?? (running ? undefined : execution.pausedAt))}
        </span>
        <span className="actions">
          {running && (
            <button type="button" onClick={() => void act('pause')}>
              Pause
            </button>
          )}
          {execution.status === 'paused' && (
            <button type="button" onClick={() => void act('resume')}>
              Resume
            </button>
          )}
          {(running || execution.status === 'paused') && (
            <button type="button" className="danger" onClick={() => void act('cancel')}>
              Cancel
            </button>
          )}
          {execution.status === 'failed' && <a href={href('dlq', new URLSearchParams({ executionId: id }))}>DLQ items →</a>}
        </span>
      </header>
      {message !== undefined && <div className="notice">{message}</div>}
      {execution.parentExecutionId !== undefined && (
        <div>
          started by <a href={href(`executions/${execution.parentExecutionId}`)}>{execution.parentExecutionId.slice(0, 8)}</a> (node {execution.parentNodeId})
        </div>
      )}
      {execution.forkedFrom !== undefined && (
        <div data-testid="forked-from">
          forked from{' '}
          <a href={href(`executions/${execution.forkedFrom.executionId}`)} data-testid="forked-from-link">
            {execution.forkedFrom.executionId.slice(0, 8)}
          </a>{' '}
          at node {execution.forkedFrom.nodeId}
        </div>
      )}
      {execution.error !== undefined && <ErrorBlock message={execution.error} details={execution.errorDetails} />}
      {graph === undefined ? (
        <div className="muted">The definition of this version is gone.</div>
      ) : (
        <WorkflowGraph graph={graph} states={nodeStates} attempts={attempts} {...(selected !== undefined && { selected })} onSelect={setSelected} height={360} />
      )}
      <Timeline detail={data} live={live} onSelect={setSelected} />
      {selected !== undefined && <NodePanel key={selected} detail={data} nodeId={selected} state={nodeStates[selected]} onChanged={reload} />}
      {children.length > 0 && (
        <section>
          <h3>Sub-workflows</h3>
          <ul>
            {children.map((c) => (
              <li key={c.executionId}>
                <a href={href(`executions/${c.executionId}`)}>{c.executionId.slice(0, 8)}</a> {c.workflowId} from node {c.parentNodeId} <Badge status={c.status} />
              </li>
            ))}
          </ul>
        </section>
      )}
    </div>
  );
}

function Timeline({ detail, live, onSelect }: { detail: ExecutionDetail; live: Live; onSelect: (id: string) => void }) {
  const { execution } = detail;
  const now = Date.now();
  const rows = Object.entries(execution.nodeResults)
    .map(([id, r]) => ({ id, from: r.startedAt ?? r.completedAt, to: r.completedAt, status: r.status as NodeState, attempts: r.attempts }))
    .concat(
      Object.entries(live)
        .filter(([id, l]) => execution.nodeResults[id] === undefined && (l.state === 'running' || l.state === 'waiting'))
        .map(([id, l]) => ({ id, from: l.since, to: now, status: l.state, attempts: l.attempt ?? 1 })),
    )
    .concat(
      // Nodes waiting for a signal since before the page subscribed: the store's waits say since when.
      detail.waits
        .filter(
          (w): w is typeof w & { nodeId: string } =>
            w.state === 'waiting' && w.nodeId !== undefined && execution.nodeResults[w.nodeId] === undefined && live[w.nodeId] === undefined,
        )
        .map((w) => ({ id: w.nodeId, from: w.createdAt, to: now, status: 'waiting' as NodeState, attempts: 1 })),
    )
    .sort((a, b) => a.from - b.from);
  if (rows.length === 0) return null;
  const start = Math.min(execution.startedAt, ...rows.map((r) => r.from));
  const end = Math.max(start + 1, execution.completedAt ?? now, ...rows.map((r) => r.to));
  const pct = (t: number) => `${((t - start) / (end - start)) * 100}%`;
  return (
    <section className="timeline" data-testid="timeline">
      <h3>Timeline</h3>
      {rows.map((r) => (
        <div className="tl-row" key={r.id} onClick={() => onSelect(r.id)}>
          <span className="tl-name">{r.id}</span>
          <span className="tl-track">
            <span className={`tl-bar state-${r.status}`} style={{ left: pct(r.from), width: `max(2px, calc(${pct(r.to)} - ${pct(r.from)}))` }} />
          </span>
          <span className="tl-meta">
            {duration(r.from, r.to)}
            {r.attempts > 1 ? ` · ${r.attempts} attempts` : ''}
          </span>
        </div>
      ))}
    </section>
  );
}

function NodePanel({ detail, nodeId, state, onChanged }: { detail: ExecutionDetail; nodeId: string; state: NodeState | undefined; onChanged: () => void }) {
  const { execution, graph } = detail;
  const node = graph?.nodes.find((n) => n.id === nodeId);
  const result = execution.nodeResults[nodeId];
  const [loaded, setLoaded] = useState<Record<string, unknown>>({});
  const load = (key: string, nodeArg?: string) =>
    void api.payload(execution.executionId, nodeArg).then(
      (r) => setLoaded((l) => ({ ...l, [key]: r.data })),
      (e: unknown) => setLoaded((l) => ({ ...l, [key]: { error: e instanceof Error ? e.message : String(e) } })),
    );
  const valueOf = (id: string | undefined) => {
    const key = id ?? '$initial';
    if (Object.hasOwn(loaded, key)) return <Json value={loaded[key]} />;
    const ref = id === undefined ? execution.initialDataRef === true : execution.nodeResults[id]?.dataRef === true;
    if (ref)
      return (
        <button type="button" onClick={() => load(key, id)}>
          Load stored payload
        </button>
      );
    return <Json value={id === undefined ? execution.initialData : execution.nodeResults[id]?.data} />;
  };
  if (node === undefined) return null;
  const parents = node.inputs;
  const finished = FINISHED.includes(execution.status);
  const signal = node.type === 'signal' && result === undefined && !finished && state === 'waiting' ? (waitingSignal(detail, nodeId) ?? node.signal) : undefined;
  return (
    <section className="card node-panel" data-testid="node-panel">
      <header className="card-head">
        <h3>{node.name ?? node.id}</h3>
        <code>{node.type}</code>
        {state !== undefined && <Badge status={state} />}
        {result !== undefined && (
          <span className="muted">
            {result.attempts} attempt{result.attempts === 1 ? '' : 's'} · {duration(result.startedAt, result.completedAt)}
          </span>
        )}
      </header>
      {result?.status === 'failed' && <ErrorBlock message={result.error} details={result.errorDetails} />}
      <div className="columns">
        <div>
          <h4>Input</h4>
          {node.id === graph?.entryNodeId || parents.length === 0
            ? valueOf(undefined)
            : parents.map((p) => (
                <div key={p}>
                  <div className="muted">from {p}</div>
                  {valueOf(p)}
                </div>
              ))}
        </div>
        <div>
          <h4>Output</h4>
          {result === undefined ? <div className="muted">not settled</div> : valueOf(nodeId)}
        </div>
      </div>
      {signal !== undefined && <SignalForm executionId={execution.executionId} name={signal} onSent={onChanged} />}
      {finished && <ForkForm executionId={execution.executionId} nodeId={nodeId} version={execution.workflowVersion} versions={detail.versions} />}
      {detail.children
        .filter((c) => c.parentNodeId === nodeId)
        .map((c) => (
          <div key={c.executionId}>
            child execution <a href={href(`executions/${c.executionId}`)}>{c.executionId.slice(0, 8)}</a> <Badge status={c.status} />
          </div>
        ))}
    </section>
  );
}
