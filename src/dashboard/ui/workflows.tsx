/** The Workflows page: every registered workflow with its graph, versions, triggers, schedules and webhooks. */
import { api } from './api.js';
import { WorkflowGraph } from './graph.js';
import { href, time, useLoad } from './util.js';

export function WorkflowsPage() {
  const { data, error } = useLoad(() => api.workflows(), []);
  if (error !== undefined) return <div className="error">{error}</div>;
  if (data === undefined) return <div className="muted">Loading…</div>;
  if (data.workflows.length === 0) return <div className="muted">No workflow is registered.</div>;
  return (
    <div data-testid="workflows">
      {data.workflows.map(({ graph, versions, schedules }) => {
        const webhooks = graph.triggers.filter((t) => t.type === 'webhook');
        return (
          <section className="card" key={graph.workflowId} data-testid={`workflow-${graph.workflowId}`}>
            <header className="card-head">
              <h2>{graph.name}</h2>
              <code>{graph.workflowId}</code>
              <span className="muted">v{graph.version}</span>
              <a href={href('executions', new URLSearchParams({ workflowId: graph.workflowId }))}>executions →</a>
            </header>
            <WorkflowGraph graph={graph} height={220} />
            <div className="columns">
              <div>
                <h3>Versions</h3>
                <ul>
                  {versions.map((v) => (
                    <li key={v.version}>
                      v{v.version} <span className="muted">{time(v.createdAt)}</span> {v.changeNotes}
                    </li>
                  ))}
                </ul>
              </div>
              <div>
                <h3>Schedules</h3>
                {schedules.length === 0 ? (
                  <div className="muted">none</div>
                ) : (
                  <ul>
                    {schedules.map((s) => (
                      <li key={s.id}>
                        <code>{s.pattern}</code> {s.tz} — next run {time(s.next)}
                      </li>
                    ))}
                  </ul>
                )}
              </div>
              <div>
                <h3>Webhooks</h3>
                {webhooks.length === 0 ? (
                  <div className="muted">none</div>
                ) : (
                  <ul>
                    {webhooks.map((w) =>
                      w.type === 'webhook' ? (
                        <li key={`${w.method ?? '*'} ${w.path}`}>
                          <code>
                            {w.method ?? 'ANY'} /{w.path}
                          </code>{' '}
                          {w.signed ? 'signed' : 'unsigned'}
                        </li>
                      ) : null,
                    )}
                  </ul>
                )}
              </div>
            </div>
          </section>
        );
      })}
    </div>
  );
}
