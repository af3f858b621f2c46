/**
 * @module agents/in-process-agents — your own agent handlers run inside the server process: the `agents`
 * export of a machines-dir module, or `startActorflow({ agents })` (docs/agents.md, "In-process agents").
 * They are served on the server's bus like the built-in ones, so they work on the in-process bus and on NATS.
 */
import { isRecord } from '../common/json.ts';
import type { AgentHandle, Bus, KindDefinition, TaskContext, TaskHandler } from '../bus/types.ts';

/** One kind's handler: what it returns (or resolves to) is the step's output; what it throws fails the attempt. */
export type InProcessHandler = (ctx: TaskContext) => Promise<unknown> | unknown;

/** A kind with options: `{ handler, concurrency?, inputSchema?, outputSchema?, description? }`. */
export interface InProcessAgent {
  readonly handler: InProcessHandler;
  /** Handlers of this kind running at once; further tasks wait for a free slot. @default 16 (as `createAgent`) */
  readonly concurrency?: number;
  /** JSON Schema of the kind's input (shown with the kind's task definition; a step whose input fails it fails with `input_invalid`). */
  readonly inputSchema?: Record<string, unknown>;
  /** JSON Schema of the kind's output (shown with the kind's task definition). */
  readonly outputSchema?: Record<string, unknown>;
  readonly description?: string;
  /**
   * The handler has no effect outside this process (a pure computation, as the built-in `echo`): its
   * tasks start without waiting for their start to be journaled, and their result joins the same commit.
   * A crash may then run it again with no record of the first run. @default false
   */
  readonly pure?: boolean;
}

/** `{ <kind>: handler | { handler, … } }`: what a machines module exports as `agents`. */
export type InProcessAgents = Readonly<Record<string, InProcessHandler | InProcessAgent>>;

/** One kind, checked, as the server serves it. */
export interface InProcessKind {
  readonly kind: string;
  /** Where it was declared (a machines-dir file name, or `startActorflow({ agents })`). */
  readonly source: string;
  readonly handler: TaskHandler;
  readonly concurrency: number;
  readonly inputSchema?: Record<string, unknown>;
  readonly outputSchema?: Record<string, unknown>;
  readonly description?: string;
  readonly pure: boolean;
}

export const DEFAULT_IN_PROCESS_CONCURRENCY = 16;
/** The built-in agents' in-process limit: past it a slot count means nothing. */
export const MAX_IN_PROCESS_CONCURRENCY = 10_000;
const OPTION_KEYS: ReadonlySet<string> = new Set(['handler', 'concurrency', 'inputSchema', 'outputSchema', 'description', 'pure']);

/** A malformed `agents` export; the message names the source and the kind. */
export class InProcessAgentsError extends Error {}

/** Checks an `agents` value and returns its kinds; throws InProcessAgentsError on the first thing wrong. */
export function readInProcessAgents(source: string, value: unknown): InProcessKind[] {
  const fail = (what: string): never => {
    throw new InProcessAgentsError(`${source}: ${what}`);
  };
  if (!isRecord(value)) return fail('`agents` must be an object { <kind>: handler | { handler, concurrency? } }');
  return Object.entries(value).map(([kind, spec]) => {
    const at = (what: string) => fail(`agent kind ${JSON.stringify(kind)}: ${what}`);
    // Kinds are names in flow documents, NATS subjects and agent ids: no blanks or control characters.
    if (!/^[^\s\p{Cc}]{1,200}$/u.test(kind)) at('a kind is 1 to 200 characters without spaces or control characters');
    if (typeof spec === 'function') return kindOf(kind, source, spec as InProcessHandler, {});
    if (!isRecord(spec)) return at('must be a function or an object { handler, concurrency?, inputSchema?, outputSchema?, description? }');
    const unknown = Object.keys(spec).filter((k) => !OPTION_KEYS.has(k));
    if (unknown.length > 0) at(`unknown option ${unknown.map((k) => JSON.stringify(k)).join(', ')} (handler, concurrency, inputSchema, outputSchema, description, pure)`);
    if (typeof spec.handler !== 'function') at('`handler` must be a function (ctx) => output');
    const c = spec.concurrency;
    if (c !== undefined && !(Number.isInteger(c) && (c as number) >= 1 && (c as number) <= MAX_IN_PROCESS_CONCURRENCY)) {
      at(`\`concurrency\` must be an integer in 1..${MAX_IN_PROCESS_CONCURRENCY}, not ${JSON.stringify(c)}`);
    }
    for (const key of ['inputSchema', 'outputSchema'] as const) {
      if (spec[key] !== undefined && !isRecord(spec[key])) at(`\`${key}\` must be a JSON Schema object`);
    }
    if (spec.description !== undefined && typeof spec.description !== 'string') at('`description` must be a string');
    if (spec.pure !== undefined && typeof spec.pure !== 'boolean') at('`pure` must be true or false');
    return kindOf(kind, source, spec.handler as InProcessHandler, spec as Partial<InProcessAgent>);
  });
}

function kindOf(kind: string, source: string, handler: InProcessHandler, o: Partial<InProcessAgent>): InProcessKind {
  return {
    kind,
    source,
    // An async wrapper: a handler that returns a plain value or throws synchronously settles like any other.
    handler: async (ctx) => handler(ctx),
    concurrency: o.concurrency ?? DEFAULT_IN_PROCESS_CONCURRENCY,
    pure: o.pure === true,
    ...(o.inputSchema === undefined ? {} : { inputSchema: o.inputSchema }),
    ...(o.outputSchema === undefined ? {} : { outputSchema: o.outputSchema }),
    ...(o.description === undefined ? {} : { description: o.description }),
  };
}

/**
 * Serves each kind as its own agent (`in-process-<kind>`), so `concurrency` is per kind. Effect-free
 * only when declared `pure`: user code may reach outside the process, so by default its tasks leave only
 * after their dispatch is journaled.
 */
export function serveInProcessAgents(bus: Bus, kinds: readonly InProcessKind[]): AgentHandle[] {
  return kinds.map((k) => {
    const def = definitionOf(k);
    return bus.serve(
      { name: `in-process-${k.kind}`, kinds: [k.kind], concurrency: k.concurrency, version: '0.0.0', effectFree: k.pure, ...(def === undefined ? {} : { definitions: { [k.kind]: def } }) },
      k.handler,
    );
  });
}

/** What a kind declares (its schemas and description), as the bus announces it; undefined when nothing. */
function definitionOf(k: InProcessKind): KindDefinition | undefined {
  if (k.inputSchema === undefined && k.outputSchema === undefined && k.description === undefined) return undefined;
  return {
    ...(k.inputSchema === undefined ? {} : { inputSchema: k.inputSchema }),
    ...(k.outputSchema === undefined ? {} : { outputSchema: k.outputSchema }),
    ...(k.description === undefined ? {} : { description: k.description }),
  };
}
