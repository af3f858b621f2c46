/** @module cli/commands/telemetry — `actorflow telemetry summary|stats`: counts, durations and costs over a time window. */
import type { TelemetryWindow } from '../../client/index.ts';
import type { Ctx } from './common.ts';
import { details, table } from './output.ts';
import type { Flags, Group } from './spec.ts';

const WINDOW: Flags = {
  from: { type: 'string', arg: 'TIME', help: 'start of the window, RFC 3339 (default: --to minus 24 h)' },
  to: { type: 'string', arg: 'TIME', help: 'end of the window, RFC 3339 (default: now)' },
};

function windowOf(c: Ctx): TelemetryWindow {
  const from = c.str('from');
  const to = c.str('to');
  return { ...(from === undefined ? {} : { from }), ...(to === undefined ? {} : { to }) };
}

const ms = (v: number | null) => (v === null ? '-' : `${v} ms`);

export const TELEMETRY: Group = {
  name: 'telemetry',
  summary: 'counts, durations and costs',
  default: 'summary',
  commands: [
    {
      name: 'telemetry summary',
      summary: 'executions created in the window: counts, p50/p95 duration, cost, per workflow',
      flags: WINDOW,
      async run(c) {
        const s = await c.client.telemetry.summary(windowOf(c));
        if (c.json) return (c.out(JSON.stringify(s, null, 2)), 0);
        c.out(
          details({
            window: `${s.from} .. ${s.to}`,
            executions: s.executions,
            duration: `p50 ${ms(s.durationMs.p50)}, p95 ${ms(s.durationMs.p95)}`,
            cost: `${s.cost.tokens} tokens, $${s.cost.usd}`,
          }),
        );
        if (s.workflows.length > 0) c.out(`\n${table(s.workflows, [['WORKFLOW', 'workflow'], ['STARTED', 'started'], ['COMPLETED', 'completed'], ['FAILED', 'failed'], ['P50 MS', 'p50Ms'], ['P95 MS', 'p95Ms'], ['TOKENS', 'tokens'], ['USD', 'usd']])}`);
        return 0;
      },
    },
    {
      name: 'telemetry stats',
      args: '<workflow>',
      summary: "per step of a workflow's executions: runs, success rate, retries, recoveries, p50/p95/p99",
      flags: WINDOW,
      async run(c) {
        const s = await c.client.telemetry.workflowStats(c.arg(0, 'workflow'), windowOf(c));
        if (c.json) return (c.out(JSON.stringify(s, null, 2)), 0);
        c.out(`${s.workflow}  ${s.from} .. ${s.to}`);
        c.out(s.steps.length === 0 ? '(no step runs)' : table(s.steps, [['STEP', 'stepId'], ['RUNS', 'runs'], ['SUCCESS', 'successRate'], ['RETRIES', 'retries'], ['RECOVERIES', 'recoveries'], ['P50 MS', 'p50Ms'], ['P95 MS', 'p95Ms'], ['P99 MS', 'p99Ms']]));
        return 0;
      },
    },
  ],
};
