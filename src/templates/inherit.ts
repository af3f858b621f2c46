/**
 * @module templates/inherit — one level of `extends`: a template's own document over its parent's
 * resolved one. Top-level fields the child gives replace the parent's; a child step whose `id` is a
 * parent step's replaces it in place, other child steps are appended in order.
 */
import type { Issue } from '../common/errors.ts';
import { isRecord } from '../common/json.ts';
import { type ParameterSchema, mergeParameters } from './parameters.ts';

/** Fields of a template that are not fields of its flow document. */
export const TEMPLATE_ONLY_FIELDS: ReadonlySet<string> = new Set(['name', 'version', 'extends', 'parameters']);

/** A template with its chain applied: merged parameters, and the flow document with placeholders kept. */
export interface Inherited {
  readonly parameters: ParameterSchema;
  readonly document: Record<string, unknown>;
}

/** Where each part of a resolved document comes from, to point an issue at the request that caused it. */
export interface Origins {
  /** For each resolved step: the index of the child's step it is, or null when inherited. */
  readonly steps: readonly (number | null)[];
  /** Top-level fields the resolved document has from the parent only. */
  readonly inherited: ReadonlySet<string>;
}

/** `own` (a template as posted) over `parent` (its resolved parent, or null). `own.steps`, when given, is an array. */
export function inherit(parent: Inherited | null, own: Record<string, unknown>): Inherited & { origins: Origins } {
  const base = parent?.document ?? {};
  const document: Record<string, unknown> = { name: own['name'] };
  const inherited = new Set<string>();
  for (const [k, v] of Object.entries(base)) {
    if (k === 'name') continue;
    setOwn(document, k, v);
    inherited.add(k);
  }
  for (const [k, v] of Object.entries(own)) {
    if (TEMPLATE_ONLY_FIELDS.has(k) || k === 'steps') continue;
    setOwn(document, k, v);
    inherited.delete(k);
  }
  const { steps, origins } = mergeSteps(Array.isArray(base['steps']) ? base['steps'] : [], Array.isArray(own['steps']) ? own['steps'] : undefined);
  if (steps !== undefined) document['steps'] = steps;
  if (own['steps'] !== undefined) inherited.delete('steps');
  const parameters = mergeParameters(parent?.parameters, isRecord(own['parameters']) ? own['parameters'] : undefined);
  return { parameters, document, origins: { steps: origins, inherited } };
}

/** `o[k] = v`, where a `__proto__` key of parsed JSON stays a key (and the flow validator sees it). */
function setOwn(o: Record<string, unknown>, k: string, v: unknown): void {
  Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
}

function mergeSteps(parent: readonly unknown[], own: readonly unknown[] | undefined): { steps: unknown[] | undefined; origins: (number | null)[] } {
  if (own === undefined) return { steps: parent.length > 0 ? [...parent] : undefined, origins: parent.map(() => null) };
  const steps = [...parent];
  const origins: (number | null)[] = parent.map(() => null);
  const at = new Map<string, number>();
  parent.forEach((s, i) => {
    const id = isRecord(s) ? s['id'] : undefined;
    if (typeof id === 'string' && !at.has(id)) at.set(id, i);
  });
  own.forEach((s, j) => {
    const id = isRecord(s) ? s['id'] : undefined;
    const i = typeof id === 'string' ? at.get(id) : undefined;
    if (i === undefined) {
      steps.push(s);
      origins.push(j);
    } else {
      steps[i] = s;
      origins[i] = j;
    }
  });
  return { steps, origins };
}

/**
 * An issue of the resolved document as a path of the request: a child's step at its own index, a
 * parent's step or field at `/extends` (the message says where in the resolved document).
 */
export function issueInRequest(issue: Issue, origins: Origins): Issue {
  const step = /^\/steps\/(\d+)(\/.*)?$/u.exec(issue.path);
  if (step) {
    const origin = origins.steps[Number(step[1])];
    if (origin === undefined) return issue;
    if (origin !== null) return { path: `/steps/${origin}${step[2] ?? ''}`, message: issue.message };
    return { path: '/extends', message: `the inherited step at ${issue.path} ${issue.message}` };
  }
  const top = issue.path.split('/')[1];
  if (top !== undefined && origins.inherited.has(top)) return { path: '/extends', message: `the inherited ${issue.path} ${issue.message}` };
  return issue;
}
