/** @module api/resources/telemetry/handlers — GET /telemetry/summary and /telemetry/workflows/{name}/stats (tenant-scoped, read-only). */
// Named for the declaration emit (dist/*.d.ts): the inferred route types carry TypeBox's symbol keys.
import type { Hint, Kind, OptionalKind, ReadonlyKind } from '@sinclair/typebox';
import type { Engine } from '../../../engine/types.ts';
import type { Clock } from '../../../common/clock.ts';
import type { TelemetryService } from '../../../telemetry/telemetry-service.ts';
import { DEFAULT_BUCKETS } from '../../../telemetry/series.ts';
import { windowOf } from '../../../telemetry/window.ts';
import { json } from '../../http/reply.ts';
import type { HandlersOf } from '../../routing/route-spec.ts';
import type { TELEMETRY_ROUTES } from './routes.ts';

export interface TelemetryDeps {
  readonly engine: Engine;
  readonly telemetry: TelemetryService;
  /** "Now" of the default window. */
  readonly clock: Pick<Clock, 'now'>;
}

/** Handlers of the telemetry routes, keyed by route id. */
export function telemetryHandlers({ engine, telemetry, clock }: TelemetryDeps) {
  return {
    telemetrySummary: {
      handle: async ({ ctx, query }) => json(200, await telemetry.summary(ctx.tenant, windowOf(query, clock.now()))),
    },
    telemetrySeries: {
      handle: async ({ ctx, query }) => json(200, await telemetry.series(ctx.tenant, windowOf(query, clock.now()), query.buckets ?? DEFAULT_BUCKETS)),
    },
    telemetryWorkflowStats: {
      handle: async ({ ctx, params, query }) => {
        const window = windowOf(query, clock.now());
        const name = params.name;
        // 404 definition_not_found for a name the tenant never registered (another tenant's included).
        await engine.getDefinition(ctx.tenant, name);
        return json(200, await telemetry.workflowStats(ctx.tenant, name, window));
      },
    },
  } satisfies HandlersOf<typeof TELEMETRY_ROUTES>;
}
