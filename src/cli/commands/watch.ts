/** @module cli/commands/watch — `actorflow watch <id>`: live events (colored on a terminal) until the end; exit 0 completed, 5 otherwise. */
import { type EventView, isTerminalEvent } from '../../client/index.ts';
import { ExitCode } from './common.ts';
import type { Command } from './spec.ts';

const COLORS: Readonly<Record<string, string>> = { green: '\x1b[32m', red: '\x1b[31m', yellow: '\x1b[33m', cyan: '\x1b[36m', dim: '\x1b[2m', reset: '\x1b[0m' };

function colorOf(type: string): string {
  if (type === 'workflow.completed' || type === 'workflow.step.completed') return 'green';
  if (type.endsWith('failed') || type === 'workflow.cancelled' || type === 'workflow.timed_out') return 'red';
  if (type.endsWith('retrying') || type === 'workflow.waiting' || type === 'workflow.paused') return 'yellow';
  if (type === 'step.log') return 'dim';
  return 'cyan';
}

/** One human line for an event. */
export function formatEvent(e: EventView, color: boolean): string {
  const paint = (name: string, s: string) => (color ? `${COLORS[name] ?? ''}${s}${COLORS['reset'] ?? ''}` : s);
  const data = Object.keys(e.data).length === 0 ? '' : ` ${JSON.stringify(e.data)}`;
  const clipped = data.length > 160 ? `${data.slice(0, 159)}…` : data;
  return `${paint('dim', e.timestamp)} ${String(e.seq).padStart(4)} ${paint(colorOf(e.type), e.type.padEnd(24))} ${e.stepId ?? '-'}${clipped}`;
}

/** Streams an execution's events until its terminal event. */
export const watchCommand: Command = {
  name: 'watch',
  args: '<id>',
  summary: 'live events until the end (exit 0 completed, 5 otherwise)',
  details: 'History first, then live events over SSE; a dropped connection resumes where it stopped. Colored on a terminal (NO_COLOR=1 turns that off).',
  flags: { since: { type: 'string', arg: 'SEQ', help: 'only events after this seq' }, children: { type: 'boolean', help: "child executions' events too" } },
  async run(c) {
    const id = c.arg(0, 'id');
    const since = c.int('since', 0);
    const color = process.stdout.isTTY === true && !c.json && process.env['NO_COLOR'] === undefined;
    let terminal: string | null = null;
    for await (const e of c.client.executions.watch(id, { ...(since === undefined ? {} : { since }), children: c.bool('children') })) {
      c.out(c.json ? JSON.stringify(e) : formatEvent(e, color));
      if (e.executionId === id && isTerminalEvent(e)) terminal = e.type;
    }
    // Resumed after the end (--since at or past the terminal seq): ask for the status.
    const status = terminal === null ? (await c.client.executions.get(id)).status : terminal.slice('workflow.'.length);
    if (!c.json) c.err(`${id} ${status}`);
    return status === 'completed' ? ExitCode.ok : ExitCode.executionFailed;
  },
};
