/** A node panel's actions: fork the execution from the node (with an edited input), send a waiting signal node its signal. */
import { useEffect, useState } from 'react';
import { api, ApiError } from './api.js';
import { href } from './util.js';

/** A refused action as shown: the engine error's code and message, and a schema's issues. */
function Refusal({ error, testId }: { error: unknown; testId: string }) {
  if (error === undefined) return null;
  const e = error instanceof ApiError ? error : undefined;
  return (
    <div className="error" data-testid={testId}>
      {e?.code !== undefined && <code>{e.code}</code>} {e === undefined ? (error instanceof Error ? error.message : String(error)) : e.message.split('\n')[0]}
      {e?.issues !== undefined && e.issues.length > 0 && (
        <ul>
          {e.issues.map((i) => (
            <li key={i}>{i}</li>
          ))}
        </ul>
      )}
    </div>
  );
}

/** Reads the editor's text as JSON; an empty editor is no value. */
function parse(text: string): { ok: true; value: unknown } | { ok: false; error: Error } {
  if (text.trim() === '') return { ok: true, value: undefined };
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (err) {
    return { ok: false, error: new Error(`not JSON: ${err instanceof Error ? err.message : String(err)}`) };
  }
}

/**
 * "Fork from here": the node's input (as the engine builds it from its parents' outputs, or the
 * initial data for a root) in an editor, and the version to run. An unchanged input forks without
 * one (the node gets what its parents give it); an edited one is sent as `input`. Opens the fork.
 */
export function ForkForm({ executionId, nodeId, version, versions }: { executionId: string; nodeId: string; version: number; versions: number[] }) {
  const [open, setOpen] = useState(false);
  const [prefill, setPrefill] = useState<string | undefined>();
  const [text, setText] = useState('');
  const [target, setTarget] = useState(version);
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    if (!open) return;
    let live = true;
    void api.input(executionId, nodeId).then(
      (r) => {
        if (!live) return;
        const t = r.data === null || r.data === undefined ? '' : JSON.stringify(r.data, null, 2);
        setPrefill(t);
        setText(t);
      },
      (e: unknown) => live && setError(e),
    );
    return () => {
      live = false;
    };
  }, [open, executionId, nodeId]);
  if (!open)
    return (
      <button type="button" data-testid="fork-open" onClick={() => setOpen(true)}>
        Fork from here
      </button>
    );
  const submit = () => {
    const parsed = parse(text);
    if (!parsed.ok) return setError(parsed.error);
    setBusy(true);
    setError(undefined);
    const edited = prefill !== undefined && text !== prefill;
    api
      .fork(executionId, { fromNodeId: nodeId, ...(edited && { input: parsed.value ?? null }), ...(target !== version && { version: target }) })
      .then(
        (r) => {
          window.location.hash = href(`executions/${r.executionId}`);
        },
        (e: unknown) => setError(e),
      )
      .finally(() => setBusy(false));
  };
  return (
    <form
      className="action-form"
      data-testid="fork-form"
      onSubmit={(e) => {
        e.preventDefault();
        submit();
      }}
    >
      <h4>Fork from {nodeId}</h4>
      <div className="muted">Input (unchanged: the node gets its parents&apos; outputs as before)</div>
      <textarea
        data-testid="fork-input"
        rows={8}
        spellCheck={false}
        value={prefill === undefined ? 'loading…' : text}
        disabled={prefill === undefined}
        onChange={(e) => setText(e.target.value)}
      />
      <label>
        Version{' '}
        <select data-testid="fork-version" value={target} onChange={(e) => setTarget(Number(e.target.value))}>
          {(versions.includes(version) ? versions : [version, ...versions]).map((v) => (
            <option key={v} value={v}>
              v{v}
              {v === version ? ' (this execution)' : ''}
            </option>
          ))}
        </select>
      </label>
      <span className="actions">
        <button type="submit" data-testid="fork-submit" disabled={busy || prefill === undefined}>
          Fork
        </button>
        <button type="button" onClick={() => setOpen(false)}>
          Close
        </button>
      </span>
      <Refusal error={error} testId="fork-error" />
    </form>
  );
}

/** "Send signal": a JSON payload for the signal a waiting signal node waits for. */
export function SignalForm({ executionId, name, onSent }: { executionId: string; name: string; onSent: () => void }) {
  const [text, setText] = useState('{}');
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const submit = () => {
    const parsed = parse(text);
    if (!parsed.ok) return setError(parsed.error);
    setBusy(true);
    setError(undefined);
    api
      .signal(executionId, name, parsed.value)
      .then(
        () => onSent(),
        (e: unknown) => setError(e),
      )
      .finally(() => setBusy(false));
  };
  return (
    <form
      className="action-form"
      data-testid="signal-form"
      onSubmit={(e) => {
        e.preventDefault();
        submit();
      }}
    >
      <div data-testid="signal-waiting">
        waiting for signal <code>{name}</code>
      </div>
      <div className="muted">Payload (JSON)</div>
      <textarea data-testid="signal-payload" rows={5} spellCheck={false} value={text} onChange={(e) => setText(e.target.value)} />
      <span className="actions">
        <button type="submit" data-testid="signal-submit" disabled={busy}>
          Send signal
        </button>
      </span>
      <Refusal error={error} testId="signal-error" />
    </form>
  );
}
