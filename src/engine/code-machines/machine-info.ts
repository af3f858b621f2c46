/**
 * @module engine/code-machines/machine-info — what the engine reads off a user's XState machine before it
 * runs one: its task steps, the signals it accepts, a hash of its source (the version key), the stored
 * document that describes it, and its Mermaid diagram.
 */
import { createHash } from 'node:crypto';
import type { AnyStateMachine } from 'xstate';
import { taskConfigOf } from '../../common/code-machine.ts';
import type { Issue } from '../../common/errors.ts';

/** The stored document of a code machine (GET /workflow-definitions/{name} shows it). */
export interface MachineDocument {
  readonly name: string;
  readonly version?: number;
  readonly kind: 'xstate';
  /** SHA-256 (hex, 16 chars) of the machine's config and implementations, functions by their source. */
  readonly hash: string;
  /** Invoke id → agent kind of every task step. */
  readonly tasks: Record<string, string>;
  /** Event types a signal may carry (`*` when the machine accepts any). */
  readonly signals: string[];
  readonly diagram: string;
}

export function isMachineDocument(doc: unknown): doc is MachineDocument {
  return typeof doc === 'object' && doc !== null && (doc as { kind?: unknown }).kind === 'xstate' && typeof (doc as { hash?: unknown }).hash === 'string';
}

interface Node {
  id: string;
  key: string;
  type: string;
  states: Record<string, Node>;
  initial?: { target: readonly Node[] };
  config: { invoke?: unknown };
  invoke: readonly { id: string; src: unknown }[];
  transitions: Map<string, readonly { target?: readonly Node[]; eventType: string }[]>;
  after: readonly { target?: readonly Node[]; delay?: unknown }[];
  always?: readonly { target?: readonly Node[] }[];
}

function nodesOf(machine: AnyStateMachine): Node[] {
  const out: Node[] = [];
  const walk = (n: Node): void => {
    out.push(n);
    for (const c of Object.values(n.states)) walk(c);
  };
  walk(machine.root as unknown as Node);
  return out;
}

function logicOf(machine: AnyStateMachine, src: unknown): unknown {
  return typeof src === 'string' ? (machine.implementations.actors as Record<string, unknown>)[src] : src;
}

/** Task steps by invoke id; issues for task invokes the engine cannot name or keep apart. */
export function machineTasks(machine: AnyStateMachine): { tasks: Record<string, string>; issues: Issue[] } {
  const tasks: Record<string, string> = {};
  const issues: Issue[] = [];
  for (const node of nodesOf(machine)) {
    const raw = node.config.invoke === undefined ? [] : Array.isArray(node.config.invoke) ? node.config.invoke : [node.config.invoke];
    node.invoke.forEach((inv, i) => {
      const cfg = taskConfigOf(logicOf(machine, inv.src));
      if (!cfg) return;
      const given = (raw[i] as { id?: unknown } | undefined)?.id;
      const path = `/states/${node.id}/invoke/${i}`;
      if (typeof given !== 'string') issues.push({ path, message: `the task invoke of ${cfg.kind} needs an explicit id (its step id)` });
      else if (!/^[A-Za-z0-9_-]{1,64}$/.test(given)) issues.push({ path: `${path}/id`, message: 'a task id is 1-64 of A-Z a-z 0-9 _ -' });
      else if (tasks[given] !== undefined && tasks[given] !== cfg.kind) issues.push({ path: `${path}/id`, message: `task id ${given} names two agent kinds` });
      else tasks[given] = cfg.kind;
    });
  }
  return { tasks, issues };
}

/** Event types a signal may carry: the machine's own events (`*`: any). */
export function machineSignals(machine: AnyStateMachine): string[] {
  return [...new Set(machine.root.events as string[])].filter((t) => !t.startsWith('xstate.') && !t.startsWith('actorflow.')).sort();
}

/** Hash of the machine's source: its config and the implementations it was set up with, functions as their text. */
export function machineHash(machine: AnyStateMachine): string {
  const seen = new WeakSet<object>();
  const json = JSON.stringify({ config: machine.config, implementations: machine.implementations }, (_k, v: unknown) => {
    if (typeof v === 'function') return `fn:${v.toString()}`;
    if (v !== null && typeof v === 'object') {
      if (seen.has(v)) return '[cycle]';
      seen.add(v);
    }
    return v;
  });
  return createHash('sha256').update(json).digest('hex').slice(0, 16);
}

const mid = (id: string): string => `s_${id.replace(/[^A-Za-z0-9_]/g, '_')}`;

function label(eventType: string): string {
  const m = /^xstate\.(done|error)\.actor\.(.+)$/.exec(eventType);
  if (m) return `${m[2]} ${m[1] === 'done' ? 'done' : 'failed'}`;
  const after = /^xstate\.after\.([^.]+)\./.exec(eventType);
  if (after) return `after ${after[1]} ms`;
  if (eventType.startsWith('xstate.done.state.')) return 'done';
  return eventType;
}

/** Mermaid `stateDiagram-v2` of the machine's states and transitions. */
export function machineMermaid(machine: AnyStateMachine): string {
  const lines = ['stateDiagram-v2'];
  const edges: string[] = [];
  const render = (node: Node, indent: string): void => {
    const children = Object.values(node.states);
    if (node.initial?.target[0]) lines.push(`${indent}[*] --> ${mid(node.initial.target[0].id)}`);
    children.forEach((c, i) => {
      if (node.type === 'parallel' && i > 0) lines.push(`${indent}--`);
      const subs = Object.values(c.states);
      if (subs.length === 0) lines.push(`${indent}state "${c.key}" as ${mid(c.id)}`);
      else {
        lines.push(`${indent}state "${c.key}" as ${mid(c.id)} {`);
        render(c, `${indent}  `);
        lines.push(`${indent}}`);
      }
      if (c.type === 'final') lines.push(`${indent}${mid(c.id)} --> [*]`);
      for (const [type, ts] of c.transitions) for (const t of ts) for (const to of t.target ?? []) edges.push(`  ${mid(c.id)} --> ${mid(to.id)} : ${label(type)}`);
      for (const t of c.always ?? []) for (const to of t.target ?? []) edges.push(`  ${mid(c.id)} --> ${mid(to.id)}`);
    });
  };
  render(machine.root as unknown as Node, '  ');
  return [...lines, ...new Set(edges)].join('\n');
}

/** The stored document of `machine` registered as `name`, or the issues that keep it from running. */
export function describeMachine(name: string, machine: AnyStateMachine): { doc: MachineDocument; issues: Issue[] } {
  const { tasks, issues } = machineTasks(machine);
  return { doc: { name, kind: 'xstate', hash: machineHash(machine), tasks, signals: machineSignals(machine), diagram: machineMermaid(machine) }, issues };
}
