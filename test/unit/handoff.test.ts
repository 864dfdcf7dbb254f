import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { WorkflowExecution } from '../../src/index.js';
import { ExecutionHandoff, HANDOFF_TTL_MS } from '../../src/runtime/execution/handoff.js';

function view(executionId = 'e1', status: WorkflowExecution['status'] = 'running'): WorkflowExecution {
  return {
    executionId,
    workflowId: 'wf',
    workflowVersion: 1,
    status,
    initialData: { order: 1 },
    nodeResults: { a: { status: 'completed', data: { paid: true }, attempts: 1, startedAt: 1, completedAt: 2 } },
    depth: 0,
    startedAt: 1,
  } as WorkflowExecution;
}

describe('ExecutionHandoff', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.setSystemTime(1_000_000);
  });
  afterEach(() => vi.useRealTimers());

  it('gives each offered child the view once, and nobody else', () => {
    const h = new ExecutionHandoff();
    h.offer(view(), Date.now(), ['b']);
    expect(h.take('e1', 'c')).toBeUndefined();
    expect(h.take('e2', 'b')).toBeUndefined();
    const got = h.take('e1', 'b');
    expect(got?.exec).toEqual(view());
    expect(got?.readAt).toBe(1_000_000);
    expect(h.take('e1', 'b')).toBeUndefined();
    expect(h.pending).toBe(0);
  });

  it('hands out copies: the parent and siblings cannot change what a child sees', () => {
    const h = new ExecutionHandoff();
    const parent = view();
    h.offer(parent, Date.now(), ['b', 'c']);
    (parent.nodeResults['a']!.data as { paid: boolean }).paid = false;
    const b = h.take('e1', 'b')!;
    (b.exec.nodeResults['a']!.data as { paid: boolean }).paid = false;
    b.exec.status = 'paused';
    const c = h.take('e1', 'c')!;
    expect(c.exec.status).toBe('running');
    expect(c.exec.nodeResults['a']!.data).toEqual({ paid: true });
  });

  it('offers nothing for an execution that is not running', () => {
    const h = new ExecutionHandoff();
    for (const status of ['paused', 'pending', 'failed', 'cancelled', 'completed'] as const) h.offer(view('e1', status), Date.now(), ['b']);
    expect(h.pending).toBe(0);
    expect(h.take('e1', 'b')).toBeUndefined();
  });

  it('refuses a view whose status is older than the TTL, when offered or when taken', () => {
    const h = new ExecutionHandoff();
    h.offer(view(), Date.now() - HANDOFF_TTL_MS, ['b']);
    expect(h.pending).toBe(0);
    h.offer(view(), Date.now() - HANDOFF_TTL_MS + 50, ['b']);
    vi.advanceTimersByTime(49);
    expect(h.take('e1', 'b')).toBeDefined();
    h.offer(view(), Date.now(), ['c']);
    vi.advanceTimersByTime(HANDOFF_TTL_MS);
    expect(h.take('e1', 'c')).toBeUndefined();
  });

  it('drop forgets the views and refuses later offers of reads made before it', () => {
    const h = new ExecutionHandoff();
    const readBeforePause = Date.now();
    h.offer(view(), readBeforePause, ['b']);
    h.offer(view('e2'), readBeforePause, ['b']);
    vi.advanceTimersByTime(5);
    h.drop('e1');
    expect(h.take('e1', 'b')).toBeUndefined();
    expect(h.take('e2', 'b')).toBeDefined();
    // A parent that read `running` before the pause and finishes after it.
    h.offer(view(), readBeforePause, ['c']);
    expect(h.take('e1', 'c')).toBeUndefined();
    vi.advanceTimersByTime(1);
    h.offer(view(), Date.now(), ['d']);
    expect(h.take('e1', 'd')).toBeDefined();
  });

  it('keeps nothing with a TTL of 0', () => {
    const h = new ExecutionHandoff(0);
    h.offer(view(), Date.now(), ['b']);
    expect(h.pending).toBe(0);
    expect(h.take('e1', 'b')).toBeUndefined();
  });

  it('sweeps views nobody took, so it does not grow without bound', () => {
    const h = new ExecutionHandoff();
    for (let i = 0; i < 1_500; i++) h.offer(view(`e${i}`), Date.now(), ['b']);
    expect(h.pending).toBe(1_500);
    vi.advanceTimersByTime(HANDOFF_TTL_MS);
    h.offer(view('fresh'), Date.now(), ['b']);
    expect(h.pending).toBe(1);
    for (let i = 0; i < 30_000; i++) h.offer(view(`f${i}`), Date.now(), ['b']);
    expect(h.pending).toBeLessThanOrEqual(20_000);
  });
});
