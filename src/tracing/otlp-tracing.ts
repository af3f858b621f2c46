/**
 * @module tracing/otlp-tracing — exports execution and step-attempt spans over OTLP/HTTP (JSON) when an
 * endpoint is configured. Loaded only then (a dynamic import in cli/serve.ts): without an endpoint no
 * OpenTelemetry code is in the process and the engine's hot path is untouched.
 *
 * Spans are built from committed events (`engine.onEvent`) by ExecutionSpans with derived ids, handed as
 * ReadableSpans to a BatchSpanProcessor (the SDK tracer cannot take given span ids). After a restart, the
 * first event of an execution the exporter has not seen makes it replay that execution's history
 * silently, so later spans keep the original start times and trace.
 */
import { SpanKind, SpanStatusCode, type HrTime, type SpanContext } from '@opentelemetry/api';
import { TraceState } from '@opentelemetry/core';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import type { Engine } from '../engine/types.ts';
import type { EventView } from '../common/execution.ts';
import type { Logger } from '../common/logger.ts';
import { ExecutionSpans, type FinishedSpan } from './execution-spans.ts';

export interface OtlpTracingOptions {
  readonly engine: Pick<Engine, 'onEvent' | 'events'>;
  /** The traces URL (…/v1/traces). */
  readonly url: string;
  readonly logger: Logger;
  /** @default OTEL_SERVICE_NAME or 'actorflow' */
  readonly serviceName?: string;
  /** Batch delay. @default OTEL_BSP_SCHEDULE_DELAY or 5000 */
  readonly scheduledDelayMillis?: number;
}

export interface OtlpTracing {
  /** Exports every finished span now. */
  flush(): Promise<void>;
  /** Stops listening, exports what is queued, shuts the exporter down. */
  close(): Promise<void>;
}

const SCOPE = { name: 'actorflow', version: '0.1.0' } as const;
const HISTORY_PAGE = 1000;

const hr = (ms: number): HrTime => [Math.floor(ms / 1000), Math.round((ms % 1000) * 1e6)];

export function startOtlpTracing(o: OtlpTracingOptions): OtlpTracing {
  const resource = resourceFromAttributes({ [ATTR_SERVICE_NAME]: o.serviceName ?? process.env.OTEL_SERVICE_NAME ?? 'actorflow', [ATTR_SERVICE_VERSION]: SCOPE.version });
  // Short timeouts: an unreachable collector must not hold up a shutdown for long.
  const exporter = new OTLPTraceExporter({ url: o.url, timeoutMillis: 5000 });
  const processor = new BatchSpanProcessor(exporter, { exportTimeoutMillis: 5000, ...(o.scheduledDelayMillis === undefined ? {} : { scheduledDelayMillis: o.scheduledDelayMillis }) });
  const traceStates = new Map<string, TraceState>();

  const toReadable = (s: FinishedSpan): ReadableSpan => {
    let traceState: TraceState | undefined;
    if (s.tracestate !== null) {
      traceState = traceStates.get(s.tracestate) ?? new TraceState(s.tracestate);
      if (traceStates.size < 64) traceStates.set(s.tracestate, traceState);
    }
    const traceFlags = parseInt(s.flags, 16) & 0xff;
    const ctx: SpanContext = { traceId: s.traceId, spanId: s.spanId, traceFlags, ...(traceState ? { traceState } : {}) };
    const durationMs = Math.max(0, s.endMs - s.startMs);
    return {
      name: s.name,
      kind: SpanKind.INTERNAL,
      spanContext: () => ctx,
      ...(s.parentSpanId === null ? {} : { parentSpanContext: { traceId: s.traceId, spanId: s.parentSpanId, traceFlags, isRemote: s.parentIsRemote } }),
      startTime: hr(s.startMs),
      endTime: hr(s.startMs + durationMs),
      duration: hr(durationMs),
      status: s.error === null ? { code: SpanStatusCode.UNSET } : { code: SpanStatusCode.ERROR, message: s.error },
      attributes: s.attributes,
      links: [],
      events: [],
      ended: true,
      resource,
      instrumentationScope: SCOPE,
      droppedAttributesCount: 0,
      droppedEventsCount: 0,
      droppedLinksCount: 0,
    };
  };

  const spans = new ExecutionSpans((s) => processor.onEnd(toReadable(s)));
  /** Executions whose history is being read: their live events wait here, in order. */
  const replaying = new Map<string, EventView[]>();
  const pending = new Set<Promise<void>>();

  const replay = async (first: EventView): Promise<void> => {
    const id = first.executionId;
    try {
      let after = 0;
      for (;;) {
        const page = await o.engine.events(first.tenant, id, after, { limit: HISTORY_PAGE });
        const buffered = replaying.get(id) ?? [];
        const firstLive = buffered[0]?.seq ?? Infinity;
        for (const e of page.items) if (e.seq < firstLive) spans.apply(e, true);
        const last = page.items[page.items.length - 1];
        if (page.nextCursor === null || !last || last.seq >= firstLive) break;
        after = last.seq;
      }
    } catch (err) {
      o.logger.warn('tracing: could not read execution history', { executionId: id, err: String(err) });
    }
    const buffered = replaying.get(id) ?? [];
    replaying.delete(id);
    if (!spans.has(id)) return;
    for (const e of buffered) spans.apply(e);
  };

  const unsubscribe = o.engine.onEvent((e) => {
    if (e.type === 'step.log' || e.type === 'workflow.waiting' || e.type === 'workflow.signal.received') return;
    const queued = replaying.get(e.executionId);
    if (queued) return void queued.push(e);
    if (spans.apply(e)) return;
    replaying.set(e.executionId, [e]);
    const p = replay(e).finally(() => pending.delete(p));
    pending.add(p);
  });

  let closing: Promise<void> | undefined;
  return {
    flush: async () => {
      await Promise.all([...pending]);
      await processor.forceFlush();
    },
    close: () =>
      (closing ??= (async () => {
        unsubscribe();
        await Promise.all([...pending]);
        await processor.shutdown().catch((err: unknown) => o.logger.warn('tracing: span export failed at shutdown', { err: String(err) }));
      })()),
  };
}
