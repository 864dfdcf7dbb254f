/** Small shared pieces: hash routing, formatting, status badges, JSON blocks. */
import { useEffect, useState } from 'react';
import type { SerializedError } from './types.js';

/** The route: the part of the hash before `?`, split on `/`, and its query. */
export interface Route {
  parts: string[];
  query: URLSearchParams;
}

function current(): Route {
  const hash = window.location.hash.replace(/^#\/?/, '');
  const [path = '', qs = ''] = hash.split('?');
  return {
    parts: path
      .split('/')
      .filter((p) => p !== '')
      .map(decodeURIComponent),
    query: new URLSearchParams(qs),
  };
}

/** The current route, updated on navigation. */
export function useRoute(): Route {
  const [route, setRoute] = useState(current);
  useEffect(() => {
    const on = () => setRoute(current());
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return route;
}

/** A hash link to a page. */
export function href(path: string, query?: URLSearchParams): string {
  const qs = query?.toString() ?? '';
  return `#/${path}${qs === '' ? '' : `?${qs}`}`;
}

export function time(ms: number | undefined): string {
  return ms === undefined ? '—' : new Date(ms).toLocaleString();
}

export function duration(from: number | undefined, to: number | undefined): string {
  if (from === undefined || to === undefined) return '—';
  const ms = to - from;
  return ms < 1000 ? `${ms} ms` : ms < 60_000 ? `${(ms / 1000).toFixed(1)} s` : `${Math.round(ms / 60_000)} min`;
}

export function Badge({ status }: { status: string }) {
  return <span className={`badge state-${status}`}>{status}</span>;
}

export function Json({ value }: { value: unknown }) {
  return <pre className="json">{value === undefined ? '—' : JSON.stringify(value, null, 2)}</pre>;
}

export function ErrorBlock({ message, details }: { message: string | undefined; details: SerializedError | undefined }) {
  if (message === undefined && details === undefined) return null;
  return (
    <div className="error" data-testid="node-error">
      <strong>{details?.name ?? 'Error'}</strong>
      {details?.code !== undefined && <code className="code">{details.code}</code>}
      <div>{message ?? details?.message}</div>
      {details?.cause !== undefined && (
        <details>
          <summary>cause</summary>
          <Json value={details.cause} />
        </details>
      )}
    </div>
  );
}

/**
 * Loads `load()` once per change of `deps`, with its error; `reload()` loads again. What an
 * earlier `deps` loaded is not returned (a page never shows the rows of the previous filter).
 */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): { data: T | undefined; error: string | undefined; reload: () => void } {
  const key = JSON.stringify(deps);
  const [state, setState] = useState<{ key: string; data?: T; error?: string } | undefined>();
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    load().then(
      (data) => live && setState({ key, data }),
      (e: unknown) => live && setState((s) => ({ key, ...(s?.key === key && { data: s.data }), error: e instanceof Error ? e.message : String(e) })),
    );
    return () => {
      live = false;
    };
  }, [key, tick]);
  const current = state?.key === key ? state : undefined;
  return { data: current?.data, error: current?.error, reload: () => setTick((t) => t + 1) };
}
