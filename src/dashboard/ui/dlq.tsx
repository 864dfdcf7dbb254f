/** The dead letter queue: failed nodes by workflow or execution; retry one, or those ticked. */
import { useState } from 'react';
import { api } from './api.js';
import { ErrorBlock, href, time, useLoad } from './util.js';
import type { Route } from './util.js';

export function DlqPage({ route }: { route: Route }) {
  const workflowId = route.query.get('workflowId') ?? '';
  const executionId = route.query.get('executionId') ?? '';
  const { data, error, reload } = useLoad(() => api.dlq(workflowId), [workflowId]);
  const workflows = useLoad(() => api.workflows(), []);
  const [ticked, setTicked] = useState<Set<string>>(new Set());
  const [message, setMessage] = useState<string | undefined>();
  const items = (data?.items ?? []).filter((i) => executionId === '' || i.executionId === executionId);
  const retry = (ids: string[]) =>
    void api.retry(ids).then(
      (r) => {
        const n = r.results.filter((x) => x.retried).length;
        setMessage(`retried ${n} of ${ids.length}`);
        setTicked(new Set());
        reload();
      },
      (e: unknown) => setMessage(e instanceof Error ? e.message : String(e)),
    );
  const filter = (changes: Record<string, string>) => {
    const next = new URLSearchParams(route.query);
    for (const [k, v] of Object.entries(changes)) {
      if (v === '') next.delete(k);
      else next.set(k, v);
    }
    window.location.hash = href('dlq', next);
  };
  return (
    <div data-testid="dlq">
      <div className="filters">
        <select aria-label="workflow" value={workflowId} onChange={(e) => filter({ workflowId: e.target.value })}>
          <option value="">all workflows</option>
          {workflows.data?.workflows.map((w) => (
            <option key={w.graph.workflowId} value={w.graph.workflowId}>
              {w.graph.workflowId}
            </option>
          ))}
        </select>
        {executionId !== '' && (
          <button type="button" onClick={() => filter({ executionId: '' })}>
            execution {executionId.slice(0, 8)} ✕
          </button>
        )}
        <button type="button" data-testid="retry-selected" disabled={ticked.size === 0} onClick={() => retry([...ticked])}>
          Retry {ticked.size} selected
        </button>
        <button type="button" onClick={reload}>
          Refresh
        </button>
      </div>
      {message !== undefined && <div className="notice">{message}</div>}
      {error !== undefined && <div className="error">{error}</div>}
      <table className="list">
        <thead>
          <tr>
            <th>
              <input
                type="checkbox"
                aria-label="select all"
                checked={items.length > 0 && ticked.size === items.length}
                onChange={(e) => setTicked(e.target.checked ? new Set(items.map((i) => i.jobId)) : new Set())}
              />
            </th>
            <th>execution</th>
            <th>workflow</th>
            <th>node</th>
            <th>error</th>
            <th>attempts</th>
            <th>failed</th>
            <th />
          </tr>
        </thead>
        <tbody>
          {items.map((i) => (
            <tr key={i.jobId} data-testid="dlq-row" data-execution={i.executionId}>
              <td>
                <input
                  type="checkbox"
                  aria-label={`select ${i.jobId}`}
                  checked={ticked.has(i.jobId)}
                  onChange={(e) =>
                    setTicked((t) => {
                      const next = new Set(t);
                      if (e.target.checked) next.add(i.jobId);
                      else next.delete(i.jobId);
                      return next;
                    })
                  }
                />
              </td>
              <td>
                <a href={href(`executions/${i.executionId}`)}>
                  <code>{i.executionId.slice(0, 8)}</code>
                </a>
              </td>
              <td>{i.workflowId}</td>
              <td>{i.nodeId}</td>
              <td>
                <ErrorBlock message={i.error} details={i.errorDetails} />
              </td>
              <td>{i.attempts}</td>
              <td>{time(i.failedAt)}</td>
              <td>
                <button type="button" data-testid="retry-one" onClick={() => retry([i.jobId])}>
                  Retry
                </button>
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {data !== undefined && items.length === 0 && <div className="muted">The dead letter queue is empty.</div>}
    </div>
  );
}
