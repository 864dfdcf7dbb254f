/** The Executions list: filters in the URL, counts per status, pages; refreshed by workflow events. */
import { useEffect, useRef } from 'react';
import { api, subscribe } from './api.js';
import { STATUSES } from './types.js';
import { Badge, duration, href, time, useLoad } from './util.js';
import type { Route } from './util.js';

const FILTERS = ['workflowId', 'version', 'status', 'search', 'from', 'to'] as const;

export function ExecutionsPage({ route }: { route: Route }) {
  const query = route.query;
  const key = query.toString();
  const { data, error, reload } = useLoad(() => api.executions(query), [key]);
  const workflows = useLoad(() => api.workflows(), []);
  // Live: an execution started or settled somewhere → this page (one request), at most every 500 ms.
  const pending = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  useEffect(
    () =>
      subscribe(undefined, (e) => {
        if (!e.type.startsWith('workflow:') || pending.current !== undefined) return;
        pending.current = setTimeout(() => {
          pending.current = undefined;
          reload();
        }, 500);
      }),
    [key],
  );
  const go = (changes: Record<string, string | undefined>) => {
    const next = new URLSearchParams(query);
    for (const [k, v] of Object.entries(changes)) {
      if (v === undefined || v === '') next.delete(k);
      else next.set(k, v);
    }
    // A new filter starts again from the newest page.
    if (!('cursor' in changes)) {
      next.delete('cursor');
      next.delete('n');
    }
    window.location.hash = href('executions', next);
  };
  const page = Number(query.get('n') ?? '0');
  const pageSize = Number(query.get('pageSize') ?? '25');
  const pages = data === undefined ? 1 : Math.max(1, Math.ceil(data.total / pageSize));
  const dateValue = (name: 'from' | 'to') => {
    const v = query.get(name);
    return v === null ? '' : new Date(Number(v) - new Date().getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
  };
  return (
    <div data-testid="executions">
      <form
        className="filters"
        onSubmit={(e) => {
          e.preventDefault();
          const form = new FormData(e.currentTarget);
          const at = (n: string) => {
            const v = String(form.get(n) ?? '');
            return v === '' ? undefined : String(new Date(v).getTime());
          };
          go({ search: String(form.get('search') ?? ''), version: String(form.get('version') ?? ''), from: at('from'), to: at('to') });
        }}
      >
        <select aria-label="workflow" data-testid="filter-workflow" value={query.get('workflowId') ?? ''} onChange={(e) => go({ workflowId: e.target.value, version: undefined })}>
          <option value="">all workflows</option>
          {workflows.data?.workflows.map((w) => (
            <option key={w.graph.workflowId} value={w.graph.workflowId}>
              {w.graph.workflowId}
            </option>
          ))}
        </select>
        <input name="version" aria-label="version" placeholder="version" size={7} defaultValue={query.get('version') ?? ''} key={`v${key}`} />
        <input name="search" aria-label="search by id" placeholder="execution id (start)" data-testid="filter-search" defaultValue={query.get('search') ?? ''} key={`s${key}`} />
        <label>
          from <input type="datetime-local" name="from" defaultValue={dateValue('from')} key={`f${key}`} />
        </label>
        <label>
          to <input type="datetime-local" name="to" defaultValue={dateValue('to')} key={`t${key}`} />
        </label>
        <button type="submit">Filter</button>
        {FILTERS.some((f) => query.has(f)) && (
          <button type="button" onClick={() => (window.location.hash = href('executions'))}>
            Clear
          </button>
        )}
      </form>
      <div className="counts">
        <button type="button" className={query.has('status') ? '' : 'active'} onClick={() => go({ status: undefined })}>
          all
        </button>
        {STATUSES.map((s) => (
          <button type="button" key={s} data-testid={`count-${s}`} className={query.get('status') === s ? 'active' : ''} onClick={() => go({ status: s })}>
            <Badge status={s} /> {data?.counts[s] ?? '…'}
          </button>
        ))}
      </div>
      {error !== undefined && <div className="error">{error}</div>}
      <table className="list">
        <thead>
          <tr>
            <th>execution</th>
            <th>workflow</th>
            <th>status</th>
            <th>started</th>
            <th>duration</th>
            <th>error</th>
          </tr>
        </thead>
        <tbody>
          {data?.executions.map((e) => (
            <tr key={e.executionId} data-testid="execution-row" data-id={e.executionId}>
              <td>
                <a href={href(`executions/${e.executionId}`)}>
                  <code>{e.executionId.slice(0, 8)}</code>
                </a>
                {e.parentExecutionId !== undefined && <span className="muted"> (child)</span>}
              </td>
              <td>
                {e.workflowId} <span className="muted">v{e.workflowVersion}</span>
              </td>
              <td>
                <Badge status={e.status} />
              </td>
              <td>{time(e.startedAt)}</td>
              <td>{duration(e.startedAt, e.completedAt)}</td>
              <td className="clip">{e.error}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {data !== undefined && data.executions.length === 0 && <div className="muted">No execution matches.</div>}
      <div className="pager">
        <button type="button" data-testid="page-first" disabled={!query.has('cursor')} onClick={() => go({ cursor: undefined, n: undefined })}>
          ⇤ newest
        </button>
        <button type="button" data-testid="page-prev" disabled={!query.has('cursor')} onClick={() => window.history.back()}>
          ← newer
        </button>
        <span data-testid="page-info">
          page {page + 1} of {pages} ({data?.total ?? '…'} executions)
        </span>
        <button type="button" data-testid="page-next" disabled={data?.nextCursor === undefined} onClick={() => go({ cursor: data?.nextCursor, n: String(page + 1) })}>
          older →
        </button>
      </div>
    </div>
  );
}
