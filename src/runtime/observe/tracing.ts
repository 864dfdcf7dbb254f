/**
 * OpenTelemetry spans of executions and node attempts (docs/tracing.md).
 *
 * `@opentelemetry/api` is an optional peer dependency: it is imported lazily, once per process,
 * and only when tracing is not switched off. When it is missing (or fails to load) tracing is off
 * and SPANE runs unchanged. Nothing here imports the API at load time; its types are imported as
 * types only and never reach SPANE's public declarations ({@link TracerLike} is structural).
 *
 * The model: `spane.execution` is a root span (or a child of the caller's active span, or of the
 * parent node's span for a sub-workflow) recorded where the execution is created, from creation
 * until its entry job is queued. Its W3C `traceparent` is stored on the execution and carried in
 * every node job's data, so each `spane.node` span (one per attempt, in whichever process or
 * machine runs it) is its child. Whoever settles the execution records `spane.execution.settled`
 * under it, from the execution's `startedAt` to the end, with the terminal status.
 *
 * @module
 */
import type * as OtelApi from '@opentelemetry/api';
import type { SerializedError } from '../../errors.js';
import type { Logger } from '../engine/runtime.js';

/**
 * An OpenTelemetry `Tracer` (from `@opentelemetry/api`). Typed structurally, so that SPANE's
 * declarations compile without the optional package installed; anything else is refused.
 */
export interface TracerLike {
  /** `Tracer.startSpan`. */
  startSpan(name: string, options?: unknown, context?: unknown): unknown;
}

/**
 * The `tracing` engine option: `true` records spans through the global tracer provider,
 * `{ tracer }` through that tracer, `false` records nothing and never loads `@opentelemetry/api`.
 * Left out, tracing is on when `@opentelemetry/api` is installed and a tracer provider is
 * registered (`provider.register()`, the Node SDK's `start()`) by the time the engine first
 * needs it.
 */
export type TracingOption = boolean | { tracer?: TracerLike };

/** The instrumentation scope of SPANE's spans. */
export const TRACER_NAME = 'spane';

/** Span names. */
export const SPAN_NAMES = { execution: 'spane.execution', settled: 'spane.execution.settled', node: 'spane.node' } as const;

/** Attribute keys. */
export const ATTR = {
  workflowId: 'spane.workflow.id',
  workflowVersion: 'spane.workflow.version',
  executionId: 'spane.execution.id',
  nodeId: 'spane.node.id',
  nodeType: 'spane.node.type',
  attempt: 'spane.node.attempt',
  status: 'spane.status',
  errorCode: 'spane.error.code',
} as const;

/** The execution a span is about. */
export interface ExecutionIds {
  executionId: string;
  workflowId: string;
  workflowVersion: number;
}

/** An execution span being recorded; see {@link ActiveTracing.startExecution}. */
export interface ExecutionSpan {
  /** The trace the execution belongs to. */
  /**
   * The trace the execution belongs to; undefined when the tracer gave no valid span context
   * (`tracing: true` with no provider registered): nothing is then stored or carried.
   */
  readonly traceId: string | undefined;
  /** The span's W3C `traceparent`, stored on the execution and carried in its node jobs (undefined as `traceId`). */
  readonly traceparent: string | undefined;
  /** Ends the span; with an error, it is recorded (name and message only) and the status is ERROR. */
  end(error?: unknown): void;
}

/** How a node attempt ended, for {@link NodeSpan.end}. */
export type NodeSpanStatus = 'completed' | 'failed' | 'retrying' | 'waiting' | 'not-run';

/** A node attempt's span; see {@link ActiveTracing.startNode}. */
export interface NodeSpan {
  /** The span's W3C `traceparent`: the parent of a sub-workflow started in the attempt (undefined as {@link ExecutionSpan.traceId}). */
  readonly traceparent: string | undefined;
  /** Ends the span with the attempt's status, and the error of a failed one. */
  end(status: NodeSpanStatus, error?: SerializedError | unknown): void;
  /** Runs `fn` with the span as the active span (seen by spans the executor starts, given a context manager). */
  run<T>(fn: () => Promise<T>): Promise<T>;
}

/** What a node attempt's span names. */
export interface NodeIds extends ExecutionIds {
  nodeId: string;
  nodeType: string;
  attempt: number;
}

/**
 * Tracing once `@opentelemetry/api` is loaded and tracing is on. Its non-private signatures name
 * no type of the API, so that SPANE's declarations never import it.
 */
export class ActiveTracing {
  private constructor(
    private readonly api: typeof OtelApi,
    private readonly tracer: OtelApi.Tracer,
  ) {}

  /** Tracing through `tracer` with the loaded `api` (the module `@opentelemetry/api`). */
  static of(api: unknown, tracer: unknown): ActiveTracing {
    return new ActiveTracing(api as typeof OtelApi, tracer as OtelApi.Tracer);
  }

  /**
   * Starts an execution's span: a child of `parent` (the parent node's `traceparent` of a
   * sub-workflow) or else of the caller's active span.
   */
  startExecution(ids: ExecutionIds, parent?: string): ExecutionSpan {
    const { api } = this;
    const ctx = parent === undefined ? api.context.active() : this.extract(parent);
    const span = this.tracer.startSpan(SPAN_NAMES.execution, { kind: api.SpanKind.INTERNAL, attributes: executionAttributes(ids) }, ctx);
    const traceparent = this.inject(span);
    return {
      traceId: traceparent === undefined ? undefined : span.spanContext().traceId,
      traceparent,
      end: (error) => {
        span.setAttribute(ATTR.status, error === undefined ? 'started' : 'failed');
        if (error !== undefined) this.recordError(span, error);
        span.end();
      },
    };
  }

  /** {@link startExecution}, writing the span's trace id and `traceparent` on the new execution `exec`. */
  traceExecution(exec: ExecutionIds & { traceId?: string; traceParent?: string }, parent?: string): ExecutionSpan {
    const span = this.startExecution(exec, parent);
    if (span.traceId !== undefined && span.traceparent !== undefined) {
      exec.traceId = span.traceId;
      exec.traceParent = span.traceparent;
    }
    return span;
  }

  /** Starts the span of one attempt of a node, a child of its execution's span (`traceparent` of its job). */
  startNode(ids: NodeIds, traceparent: string | undefined): NodeSpan {
    const { api } = this;
    const ctx = traceparent === undefined ? api.ROOT_CONTEXT : this.extract(traceparent);
    const attributes = { ...executionAttributes(ids), [ATTR.nodeId]: ids.nodeId, [ATTR.nodeType]: ids.nodeType, [ATTR.attempt]: ids.attempt };
    const span = this.tracer.startSpan(SPAN_NAMES.node, { kind: api.SpanKind.CONSUMER, attributes }, ctx);
    let ended = false;
    return {
      traceparent: this.inject(span),
      end: (status, error) => {
        if (ended) return;
        ended = true;
        span.setAttribute(ATTR.status, status);
        if (error !== undefined) this.recordError(span, error);
        span.end();
      },
      run: (fn) => api.context.with(api.trace.setSpan(api.context.active(), span), fn),
    };
  }

  /**
   * Records `spane.execution.settled` under the execution's span: from its `startedAt` to now,
   * with its terminal status and, for a failure, the error. Nothing for an untraced execution.
   */
  executionSettled(exec: ExecutionIds & { traceParent?: string | undefined; startedAt: number }, status: string, error?: SerializedError): void {
    if (exec.traceParent === undefined) return;
    const span = this.tracer.startSpan(
      SPAN_NAMES.settled,
      { kind: this.api.SpanKind.INTERNAL, attributes: { ...executionAttributes(exec), [ATTR.status]: status }, startTime: new Date(exec.startedAt) },
      this.extract(exec.traceParent),
    );
    if (error !== undefined) this.recordError(span, error);
    else if (status !== 'completed') span.setStatus({ code: this.api.SpanStatusCode.ERROR, message: status });
    span.end();
  }

  /** The error's name, message and code only: no stack, cause or data (they may hold user data). */
  private recordError(span: OtelApi.Span, error: unknown): void {
    const { name, message, code } = errorFacts(error);
    span.recordException({ name, message });
    if (code !== undefined) span.setAttribute(ATTR.errorCode, code);
    span.setStatus({ code: this.api.SpanStatusCode.ERROR, message });
  }

  /**
   * The span's `traceparent`, through the registered propagator, else formatted here (W3C);
   * undefined for an invalid span context (a no-op tracer's), which names no trace.
   */
  private inject(span: OtelApi.Span): string | undefined {
    if (!this.api.isSpanContextValid(span.spanContext())) return undefined;
    const carrier: Record<string, string> = {};
    this.api.propagation.inject(this.api.trace.setSpan(this.api.ROOT_CONTEXT, span), carrier);
    if (typeof carrier['traceparent'] === 'string') return carrier['traceparent'];
    const sc = span.spanContext();
    return `00-${sc.traceId}-${sc.spanId}-${(sc.traceFlags & 0xff).toString(16).padStart(2, '0')}`;
  }

  /** A context whose span is the remote one `traceparent` names (registered propagator first, else parsed here). */
  private extract(traceparent: string): OtelApi.Context {
    const { api } = this;
    const ctx = api.propagation.extract(api.ROOT_CONTEXT, { traceparent });
    const found = api.trace.getSpanContext(ctx);
    if (found !== undefined && api.isSpanContextValid(found)) return ctx;
    const m = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/.exec(traceparent);
    if (m === null) return api.ROOT_CONTEXT;
    return api.trace.setSpanContext(api.ROOT_CONTEXT, { traceId: m[1]!, spanId: m[2]!, traceFlags: Number.parseInt(m[3]!, 16), isRemote: true });
  }
}

/**
 * One engine's (or worker thread's) tracing switch. {@link current} is what the hot paths read:
 * undefined while tracing is off or not loaded yet, so an engine with tracing off pays one
 * property read per hook.
 */
export class Tracing {
  private active: ActiveTracing | undefined;
  private loading: Promise<ActiveTracing | undefined> | undefined;
  private done: boolean;

  /** @param option - the engine's `tracing` option (see {@link TracingOption}). */
  constructor(
    private readonly option: TracingOption | undefined,
    private readonly logger: Logger,
  ) {
    this.done = option === false;
  }

  /** Tracing, when on and loaded. */
  get current(): ActiveTracing | undefined {
    return this.active;
  }

  /** Whether {@link current} is final (tracing is off, or loaded). */
  get settled(): boolean {
    return this.done;
  }

  /** {@link current}, once {@link load} has settled. */
  async ready(): Promise<ActiveTracing | undefined> {
    return this.done ? this.active : this.load();
  }

  /** Loads `@opentelemetry/api` (once) and decides whether tracing is on. Never rejects. */
  load(): Promise<ActiveTracing | undefined> {
    if (this.option === false) return Promise.resolve(undefined);
    this.loading ??= loadApi().then((api) => {
      this.active = api === undefined ? undefined : this.decide(api);
      this.done = true;
      return this.active;
    });
    return this.loading;
  }

  private decide(api: typeof OtelApi): ActiveTracing | undefined {
    const option = this.option;
    if (typeof option === 'object' && option !== null && option.tracer !== undefined) {
      if (typeof option.tracer.startSpan !== 'function') {
        this.logger.warn('tracing: the tracer given has no startSpan; tracing is off');
        return undefined;
      }
      return ActiveTracing.of(api, option.tracer);
    }
    if (option === undefined && !hasTracerProvider(api)) return undefined;
    return ActiveTracing.of(api, api.trace.getTracer(TRACER_NAME));
  }
}

/** The process's copy of `@opentelemetry/api`, or undefined when it cannot be loaded. */
let api: Promise<typeof OtelApi | undefined> | undefined;

function loadApi(): Promise<typeof OtelApi | undefined> {
  api ??= import('@opentelemetry/api').then(
    (m): typeof OtelApi => m,
    () => undefined,
  );
  return api;
}

/** Whether a tracer provider was registered with the API (the global one is a proxy until then). */
function hasTracerProvider(otel: typeof OtelApi): boolean {
  const provider = otel.trace.getTracerProvider();
  if (provider instanceof otel.ProxyTracerProvider) return provider.getDelegateTracer(TRACER_NAME) !== undefined;
  return true;
}

function executionAttributes(ids: ExecutionIds): OtelApi.Attributes {
  return { [ATTR.workflowId]: ids.workflowId, [ATTR.workflowVersion]: ids.workflowVersion, [ATTR.executionId]: ids.executionId };
}

/** Name, message and code of an error or a stored `SerializedError`. */
function errorFacts(error: unknown): { name: string; message: string; code: string | undefined } {
  if (typeof error === 'object' && error !== null) {
    const e = error as { name?: unknown; message?: unknown; code?: unknown };
    return {
      name: typeof e.name === 'string' ? e.name : 'Error',
      message: typeof e.message === 'string' ? e.message : '',
      code: typeof e.code === 'string' ? e.code : undefined,
    };
  }
  return { name: 'Error', message: typeof error === 'string' ? error : '', code: undefined };
}
