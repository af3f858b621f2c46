/**
 * @module engine/flow/validate-flow — whole-document validation of flow documents: structure (ajv), then references and control flow.
 * A little past 400 lines on purpose: the passes share one walk of the document and its issue paths; split apart they would each re-walk it.
 */
import { Ajv, type ErrorObject } from 'ajv';
import type { Issue } from '../../common/errors.ts';
import { LIMITS, type Step } from '../../common/flow.ts';
import { isRecord as isObj, pointerToken } from '../../common/json.ts';
import { NAME_PATTERN, RFC3339_RE, STEP_ID_PATTERN, flowSchema } from './flow-schema.ts';
import { inputSchemas } from '../definitions/schema-cache.ts';

export interface ValidateFlowOptions {
  /** When given, `workflow` steps must name a workflow for which this returns true. */
  readonly knownWorkflows?: ((name: string) => boolean) | undefined;
}

// Compiled once: validation runs on every definition POST and every dynamic execution.
const ajv = new Ajv({ allErrors: true, strict: false, verbose: true, logger: false });
const validateStructure = ajv.compile(flowSchema);

const STEP_ID_RE = new RegExp(STEP_ID_PATTERN, 'u');
const NAME_RE = new RegExp(NAME_PATTERN, 'u');
const MAX_NESTING = 64;
const RESERVED_STEP_IDS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

type Obj = Record<string, unknown>;
const isStepId = (v: unknown): v is string => typeof v === 'string' && STEP_ID_RE.test(v);

// ─── control flow (shared with the diagram and, ideally, the engine) ───

/** `next`: list order or an explicit `next`; `when`/`default`: choice branches; `fallback`: onError. */
export type EdgeKind = 'next' | 'when' | 'default' | 'fallback';
/** A control-flow edge from a step; `to: null` leaves the list (end of list or `end: true`). */
export interface Edge {
  readonly kind: EdgeKind;
  readonly to: string | null;
  /** `when` edges: the index of the choice branch (the diagram labels the edge with its condition). */
  readonly branch?: number;
}
type Target = { readonly id: string } | { readonly index: number } | null;

function rawEdges(steps: readonly unknown[], index: number): { kind: EdgeKind; target: Target; branch?: number }[] {
  const step = steps[index];
  const following: Target = index + 1 < steps.length ? { index: index + 1 } : null;
  // A malformed step (already reported) passes control on, so it does not cascade into "unreachable".
  if (!isObj(step)) return [{ kind: 'next', target: following }];
  const flow: Target =
    step.end === true ? null : typeof step.next === 'string' ? { id: step.next } : following;
  const out: { kind: EdgeKind; target: Target; branch?: number }[] = [];
  if (step.type === 'choice') {
    if (Array.isArray(step.when)) {
      step.when.forEach((branch: unknown, i: number) => {
        if (isObj(branch) && typeof branch.next === 'string') out.push({ kind: 'when', target: { id: branch.next }, branch: i });
      });
    }
    // No branch matched: `default`, else the step's own flow (next / end / following step).
    out.push({ kind: 'default', target: typeof step.default === 'string' ? { id: step.default } : flow });
    return out;
  }
  out.push({ kind: 'next', target: flow });
  if (isObj(step.onError) && typeof step.onError.fallback === 'string') {
    out.push({ kind: 'fallback', target: { id: step.onError.fallback } });
  }
  return out;
}

/**
 * Where control can go after `steps[index]`. Failure paths other than `fallback` (fail, compensate)
 * end the execution and are not edges; `skip` continues along the `next` edge.
 */
export function stepEdges(steps: readonly Step[], index: number): Edge[] {
  return rawEdges(steps, index).map(({ kind, target, branch }) => ({
    kind,
    to: target === null ? null : 'id' in target ? target.id : (steps[target.index]?.id ?? null),
    ...(branch === undefined ? {} : { branch }),
  }));
}

// ─── structure ───

function toIssue(e: ErrorObject): Issue | undefined {
  if (e.keyword === 'if') return undefined; // the failing then/else branch reports the real error
  const custom = (isObj(e.parentSchema) && isObj(e.parentSchema['x-messages']) ? e.parentSchema['x-messages'] : {})[
    e.keyword
  ];
  const params = e.params as Obj;
  let path = e.instancePath;
  let message = typeof custom === 'string' ? custom : (e.message ?? 'is invalid');
  if (e.keyword === 'required' && typeof params.missingProperty === 'string') {
    path += `/${pointerToken(params.missingProperty)}`;
    if (typeof custom !== 'string') message = 'is required';
  } else if (e.keyword === 'additionalProperties' && typeof params.additionalProperty === 'string') {
    path += `/${pointerToken(params.additionalProperty)}`;
    if (typeof custom !== 'string') message = 'is not allowed';
  } else if (e.keyword === 'enum' && typeof custom !== 'string' && Array.isArray(params.allowedValues)) {
    message = `must be one of: ${params.allowedValues.map(String).join(', ')}`;
  }
  return { path, message };
}

// ─── semantics ───

interface StepList {
  readonly path: string;
  readonly steps: readonly unknown[];
  readonly compensations: boolean;
}
interface Located {
  readonly list: StepList;
  readonly index: number;
  readonly path: string;
}

class Checker {
  readonly issues: Issue[] = [];
  readonly lists: StepList[] = [];
  readonly ids = new Map<string, Located>();
  readonly compensationIds = new Set<string>();
  /** Lists with a broken jump: their graph is unknown, so reachability there would only add noise. */
  readonly broken = new Set<StepList>();

  constructor(
    private readonly doc: Obj,
    private readonly opts: ValidateFlowOptions,
  ) {}

  add(path: string, message: string): void {
    this.issues.push({ path, message });
  }

  run(): void {
    if (Array.isArray(this.doc.steps)) this.collect(this.doc.steps, '/steps', 0);
    if (Array.isArray(this.doc.compensations)) {
      this.lists.push({ path: '/compensations', steps: this.doc.compensations, compensations: true });
    }
    const total = this.lists.reduce((n, l) => n + l.steps.length, 0);
    const branches = this.lists.length - 1 - (Array.isArray(this.doc.compensations) ? 1 : 0);
    const tooMany = total > LIMITS.maxStepsPerDefinition;
    if (tooMany) {
      this.add('/steps', `has ${total} steps in all (nested and compensations included); at most ${LIMITS.maxStepsPerDefinition}`);
    }
    if (branches > LIMITS.maxParallelBranches) {
      this.add('/steps', `has ${branches} parallel branches in all (nested included); at most ${LIMITS.maxParallelBranches}`);
    }
    this.indexIds();
    for (const list of this.lists) {
      list.steps.forEach((step, i) => {
        if (!isObj(step)) return;
        if (list.compensations) this.checkCompensation(step, `${list.path}/${i}`);
        else this.checkStep(step, list, `${list.path}/${i}`);
        if (step.type === 'task' && isObj(step.outputSchema)) this.checkSchema(step.outputSchema, `${list.path}/${i}/outputSchema`);
      });
      // Graph checks are linear but recursive; skip them on oversized documents (already rejected).
      if (!list.compensations && !tooMany && !this.broken.has(list)) this.checkGraph(list);
    }
    if (isObj(this.doc.inputSchema)) this.checkSchema(this.doc.inputSchema, '/inputSchema');
    // A queued execution must survive a restart: direct executions never touch the journal while they run.
    if (isObj(this.doc.concurrency) && this.doc.durability === 'none') {
      this.add('/concurrency', 'needs durability journal: queued executions are kept in the journal, direct ones (durability none) are not');
    }
  }

  /** Every step list: the top level and each parallel branch, recursively. */
  private collect(steps: readonly unknown[], path: string, depth: number): void {
    if (depth > MAX_NESTING) {
      this.add(path, `parallel steps are nested too deeply (at most ${MAX_NESTING} levels)`);
      return;
    }
    this.lists.push({ path, steps, compensations: false });
    steps.forEach((step, i) => {
      if (!isObj(step) || step.type !== 'parallel' || !Array.isArray(step.branches)) return;
      step.branches.forEach((branch: unknown, k) => {
        if (Array.isArray(branch)) this.collect(branch, `${path}/${i}/branches/${k}`, depth + 1);
      });
    });
  }

  private indexIds(): void {
    for (const list of this.lists) {
      list.steps.forEach((step, index) => {
        if (!isObj(step) || !isStepId(step.id)) return;
        const path = `${list.path}/${index}`;
        // Step outputs are looked up by id in plain objects ($.steps.<id>): these names are not data.
        if (RESERVED_STEP_IDS.has(step.id)) this.add(`${path}/id`, `'${step.id}' is reserved and cannot be a step id`);
        const first = this.ids.get(step.id);
        if (first !== undefined) {
          this.add(`${path}/id`, `duplicate step id '${step.id}' (first used at ${first.path})`);
          return;
        }
        this.ids.set(step.id, { list, index, path });
        if (list.compensations) this.compensationIds.add(step.id);
      });
    }
  }

  /** A jump target must be a step of the same list: control never crosses a branch boundary. */
  private checkTarget(target: unknown, list: StepList, path: string): void {
    if (target === undefined) return;
    if (!isStepId(target)) {
      this.broken.add(list); // the schema reported it
      return;
    }
    const loc = this.ids.get(target);
    if (loc === undefined || loc.list !== list) this.broken.add(list);
    if (loc === undefined) this.add(path, `no step has id '${target}'`);
    else if (loc.list.compensations) {
      this.add(path, `'${target}' is a compensation; jump targets must be steps of the same step list`);
    } else if (loc.list !== list) {
      this.add(
        path,
        `'${target}' is in another step list (${loc.list.path}); jumps cannot cross parallel branch boundaries`,
      );
    }
  }

  private checkStep(step: Obj, list: StepList, path: string): void {
    this.checkTarget(step.next, list, `${path}/next`);
    if (step.end === true && step.next !== undefined) {
      this.add(`${path}/end`, '`end: true` and `next` cannot both be set');
      this.broken.add(list);
    }
    if (isObj(step.onError)) this.checkTarget(step.onError.fallback, list, `${path}/onError/fallback`);
    if (isStepId(step.compensate) && !this.compensationIds.has(step.compensate)) {
      this.add(`${path}/compensate`, `no entry of \`compensations\` has id '${step.compensate}'`);
    }
    if (step.type === 'choice') {
      if (Array.isArray(step.when)) {
        step.when.forEach((branch: unknown, k) => {
          if (isObj(branch)) this.checkTarget(branch.next, list, `${path}/when/${k}/next`);
        });
      }
      this.checkTarget(step.default, list, `${path}/default`);
    }
    const known = this.opts.knownWorkflows;
    if (step.type === 'workflow' && known !== undefined && typeof step.workflow === 'string') {
      if (NAME_RE.test(step.workflow) && !known(step.workflow)) {
        this.add(`${path}/workflow`, `unknown workflow '${step.workflow}'`);
      }
    }
    if (step.type === 'sleep' && typeof step.until === 'string' && RFC3339_RE.test(step.until)) {
      if (Number.isNaN(Date.parse(step.until.toUpperCase().replace(' ', 'T')))) {
        this.add(`${path}/until`, 'is not a valid date-time');
      }
    }
  }

  /** Compensations run by reference, one by one: list-order and jump fields have no meaning there. */
  private checkCompensation(step: Obj, path: string): void {
    for (const field of ['next', 'end', 'compensate'] as const) {
      if (step[field] !== undefined) this.add(`${path}/${field}`, 'is not allowed on a compensation');
    }
    if (isObj(step.onError) || step.onError === 'compensate') {
      this.add(`${path}/onError`, 'a compensation can only use onError fail or skip');
    }
  }

  /** Unreachable steps and loops that can never pause or leave, within one step list. */
  private checkGraph(list: StepList): void {
    const n = list.steps.length;
    if (n === 0) return;
    const EXIT = -1;
    const succ: number[][] = list.steps.map((_, i) =>
      rawEdges(list.steps, i).flatMap(({ target }) => {
        if (target === null) return [EXIT];
        if ('index' in target) return [target.index];
        const loc = this.ids.get(target.id);
        return loc !== undefined && loc.list === list ? [loc.index] : []; // broken targets were reported
      }),
    );
    const reachable = new Array<boolean>(n).fill(false);
    const queue = [0];
    reachable[0] = true;
    for (let q = queue.pop(); q !== undefined; q = queue.pop()) {
      for (const t of succ[q] ?? []) {
        if (t !== EXIT && !reachable[t]) {
          reachable[t] = true;
          queue.push(t);
        }
      }
    }
    const label = (i: number): string => {
      const s = list.steps[i];
      return isObj(s) && isStepId(s.id) ? s.id : `#${i}`;
    };
    reachable.forEach((r, i) => {
      if (!r) this.add(`${list.path}/${i}`, `step '${label(i)}' is unreachable`);
    });
    const cycles = (graph: readonly (readonly number[])[]) =>
      stronglyConnected(graph).filter((scc) => {
        const first = Math.min(...scc);
        return reachable[first] === true && (scc.length > 1 || (graph[first] ?? []).includes(first));
      });
    const describe = (scc: readonly number[]): string => {
      const order = [...scc].sort((a, b) => a - b).map(label);
      return [...order, order[0]].join(' -> ');
    };
    const instant = new Set<number>();
    for (const scc of cycles(succ)) {
      const members = new Set(scc);
      if (scc.some((i) => pauses(list.steps[i], 0))) continue;
      if (scc.some((i) => (succ[i] ?? []).some((t) => !members.has(t)))) continue;
      scc.forEach((i) => instant.add(i));
      this.add(`${list.path}/${Math.min(...scc)}`, `loop ${describe(scc)} never reaches a wait, sleep or end`);
    }
    // A cycle of steps that all finish at once (choice, workflow, a parallel that may) would spin inside
    // one input without end: every cycle must pass a task, wait or sleep step.
    const immediate = succ.map((edges, i) => (blocks(list.steps[i], 0) ? [] : edges));
    for (const scc of cycles(immediate)) {
      if (scc.some((i) => instant.has(i))) continue; // already reported above
      this.add(`${list.path}/${Math.min(...scc)}`, `loop ${describe(scc)} can repeat without passing a task, wait or sleep step`);
    }
  }

  /**
   * An `inputSchema` or a step's `outputSchema`, compiled through the bounded cache the engine then
   * validates with (a start compiles its schema once). Not a shared Ajv: one keeps every compiled
   * schema even after `removeSchema()`.
   */
  private checkSchema(schema: Obj, path: string): void {
    try {
      inputSchemas.compile(schema);
    } catch (err) {
      this.add(path, `is not a valid JSON Schema: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}

/**
 * The step cannot finish within the input that started it: a task, wait or sleep, or a parallel
 * one of whose branches cannot reach its end without passing such a step. `choice` and `workflow`
 * (whose child may finish at once) do not block.
 */
function blocks(step: unknown, depth: number): boolean {
  if (!isObj(step) || depth > MAX_NESTING) return false;
  if (step.type === 'task' || step.type === 'wait' || step.type === 'sleep') return true;
  if (step.type !== 'parallel' || !Array.isArray(step.branches)) return false;
  return step.branches.some((b: unknown) => Array.isArray(b) && !finishesAtOnce(b, depth + 1));
}

/** A path from the first step of a list to its end that passes no blocking step exists. */
function finishesAtOnce(steps: readonly unknown[], depth: number): boolean {
  if (steps.length === 0) return true;
  const ids = new Map<string, number>();
  steps.forEach((s, i) => {
    if (isObj(s) && typeof s.id === 'string') ids.set(s.id, i);
  });
  const seen = new Set<number>([0]);
  const queue = [0];
  for (let q = queue.pop(); q !== undefined; q = queue.pop()) {
    if (blocks(steps[q], depth)) continue;
    for (const { target } of rawEdges(steps, q)) {
      if (target === null) return true;
      const t = 'index' in target ? target.index : ids.get(target.id);
      if (t !== undefined && !seen.has(t)) {
        seen.add(t);
        queue.push(t);
      }
    }
  }
  return false;
}

/** A wait or sleep, or a parallel step that contains one, blocks instead of spinning. */
function pauses(step: unknown, depth: number): boolean {
  if (!isObj(step) || depth > MAX_NESTING) return false;
  if (step.type === 'wait' || step.type === 'sleep') return true;
  return (
    step.type === 'parallel' &&
    Array.isArray(step.branches) &&
    step.branches.some((b: unknown) => Array.isArray(b) && b.some((s: unknown) => pauses(s, depth + 1)))
  );
}

/** Tarjan's algorithm; EXIT (-1) and out-of-range targets are not nodes. */
function stronglyConnected(succ: readonly (readonly number[])[]): number[][] {
  const n = succ.length;
  const index = new Array<number>(n).fill(-1);
  const low = new Array<number>(n).fill(0);
  const onStack = new Array<boolean>(n).fill(false);
  const stack: number[] = [];
  const out: number[][] = [];
  let counter = 0;
  const visit = (v: number): void => {
    index[v] = low[v] = counter++;
    stack.push(v);
    onStack[v] = true;
    for (const w of succ[v] ?? []) {
      if (w < 0 || w >= n) continue;
      if (index[w] === -1) {
        visit(w);
        low[v] = Math.min(low[v] ?? 0, low[w] ?? 0);
      } else if (onStack[w]) low[v] = Math.min(low[v] ?? 0, index[w] ?? 0);
    }
    if (low[v] === index[v]) {
      const scc: number[] = [];
      for (let w = stack.pop(); w !== undefined; w = stack.pop()) {
        onStack[w] = false;
        scc.push(w);
        if (w === v) break;
      }
      out.push(scc);
    }
  };
  for (let v = 0; v < n; v++) if (index[v] === -1) visit(v);
  return out;
}

/**
 * Validate a whole flow document; returns every issue (JSON Pointer + message), [] when valid.
 * Never throws on bad input: structure is checked by the schema, then semantics on what is well-formed.
 */
export function validateFlow(doc: unknown, opts: ValidateFlowOptions = {}): Issue[] {
  const issues: Issue[] = [];
  try {
    if (!validateStructure(doc)) {
      for (const e of validateStructure.errors ?? []) {
        const issue = toIssue(e);
        if (issue !== undefined) issues.push(issue);
      }
    }
    if (isObj(doc)) {
      const checker = new Checker(doc, opts);
      checker.run();
      issues.push(...checker.issues);
    }
  } catch (err) {
    // Only self-referencing or absurdly deep objects get here (stack exhaustion); report, don't crash.
    if (!(err instanceof RangeError)) throw err;
    issues.push({ path: '', message: 'document is nested too deeply or contains cycles' });
  }
  const seen = new Set<string>();
  return issues.filter((i) => {
    const key = `${i.path}\u0000${i.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
