/** @module engine/commands — what changes executions and definitions: start (idempotent, direct or journaled), controls, signals, registration. */
import type { SpawnRequest, Supervisor } from './runtime/supervisor.ts';
import { ConflictError, ErrorCode, NotFoundError, ValidationError, type Issue } from '../common/errors.ts';
import { TERMINAL_STATUSES } from '../common/execution.ts';
import { idempotencyExpired } from '../common/idempotency.ts';
import type { FlowDocument } from '../common/flow.ts';
import type { TemplateInstance } from '../common/template.ts';
import { DIRECT_MAX_SLEEP_MS, LIMITS, PRIORITY, type Step } from '../common/flow.ts';
import type { ExecutionRow, ExecutionScope } from '../store/types.ts';
import { inputIssues, toDefinitionView, type LoadedDefinition } from './definitions/definitions.ts';
import { isMachineDocument } from './code-machines/machine-info.ts';
import { flowToMermaid } from './definitions/diagram.ts';
import type { FlowEvent } from './flow/flow-context.ts';
import { rowToView } from './runtime/live-execution.ts';
import { TASK_KEY_PREFIX, type ExecutionKind } from './runtime/tasks.ts';
import { concurrencyPlacement } from './journal/journal.ts';
import { formatTraceparent, parseTraceparent, parseTracestate } from '../tracing/trace-context.ts';
import type { StartResult, PageRequest, SignalRequest, StartRequest } from './types.ts';

export class Commands {
  constructor(private readonly sup: Supervisor) {}

  validateDefinition(tenant: string, doc: unknown) {
    return this.sup.registry.validate(tenant, doc);
  }

  async registerDefinition(tenant: string, doc: unknown, template?: TemplateInstance) {
    const { row, created } = await this.sup.registry.register(tenant, doc, 'document', template);
    return { definition: toDefinitionView(row), created };
  }

  async getDefinition(tenant: string, name: string, version?: number) {
    return toDefinitionView(this.sup.registry.get(tenant, name, version));
  }

  async listDefinitions(tenant: string, prefix: string | undefined, page: PageRequest) {
    return this.sup.registry.list(tenant, prefix, page);
  }

  async listDefinitionVersions(tenant: string, name: string, page: PageRequest) {
    return this.sup.registry.listVersions(tenant, name, page);
  }

  async retireDefinition(tenant: string, name: string) {
    await this.sup.registry.retire(tenant, name);
  }

  async definitionDiagram(tenant: string, name: string, version?: number) {
    const doc = this.sup.registry.get(tenant, name, version).document;
    return isMachineDocument(doc) ? doc.diagram : flowToMermaid(doc as FlowDocument);
  }

  async start(req: StartRequest) {
    // Tasks keep their idempotency keys apart from executions' (one unique index serves both).
    if (req.kind === 'task' && req.idempotencyKey) req = { ...req, idempotencyKey: TASK_KEY_PREFIX + req.idempotencyKey };
    const key = req.idempotencyKey ? `${req.tenant}\u0000${req.idempotencyKey}` : null;
    if (!key || !req.idempotencyKey) return this.startNew(req);
    // The key is reserved in memory before any await: a second start with it waits for the first.
    for (let held = this.sup.pendingKeys.get(key); held; held = this.sup.pendingKeys.get(key)) {
      const first = await held;
      if (first) return this.replay(req, first);
    }
    let settle!: (row: ExecutionRow | undefined) => void;
    this.sup.pendingKeys.set(key, new Promise((r) => (settle = r)));
    let created: ExecutionRow | undefined;
    try {
      const prior = await this.sup.store.findByIdempotencyKey(req.tenant, req.idempotencyKey);
      if (prior && !this.keyReleasable(prior)) {
        created = prior;
        return this.replay(req, prior);
      }
      // Its 24 h are over and its execution has ended: the key goes to this start (still reserved here), taken
      // from the old row in the same commit that writes the new one (through the journal: every copy sees both).
      const result = await this.startNew(req, prior);
      created = this.sup.live.get(result.execution.id)?.toRow() ?? (await this.sup.store.getExecution(result.execution.id));
      return result;
    } finally {
      this.sup.pendingKeys.delete(key);
      settle(created);
    }
  }

  /**
   * A key answers its execution for 24 h (API.md); after that a new start takes it, once that execution has
   * ended (an open one keeps answering: a second run beside it is not what a retrying client means).
   */
  private keyReleasable(prior: ExecutionRow): boolean {
    return idempotencyExpired(prior.createdAt, this.sup.clock.now()) && TERMINAL_STATUSES.has(prior.status) && !this.sup.live.has(prior.id);
  }

  private replay(req: StartRequest, prior: ExecutionRow): StartResult {
    if (prior.requestHash !== (req.requestHash ?? null)) throw new ConflictError(ErrorCode.idempotencyKeyConflict, 'the idempotency key was used with a different request');
    return { execution: rowToView(prior), replayed: true };
  }

  /** See Engine.startPlacement: the key first (one key, one execution), then the concurrency group. */
  placement(req: StartRequest): string | null {
    if (req.idempotencyKey) return req.kind === 'task' ? TASK_KEY_PREFIX + req.idempotencyKey : req.idempotencyKey;
    if (req.kind === 'task') return null;
    let def: LoadedDefinition;
    try {
      def = this.resolveDefinition(req);
    } catch {
      return null; // refused wherever it runs
    }
    const m = this.sup.gate.membership(def, req.input ?? null);
    return m === null ? null : concurrencyPlacement(def.row.name, m.key);
  }

  private async startNew(req: StartRequest, keyFrom?: ExecutionRow): Promise<StartResult> {
    const def = this.resolveDefinition(req);
    if (def.validateInput && !def.validateInput(req.input ?? null)) throw new ValidationError('input does not match the inputSchema', inputIssues(def.validateInput));
    const direct = (req.durability ?? def.compiled.doc.durability ?? 'journal') === 'none';
    const input = req.input ?? null;
    const concurrency = req.kind === 'task' ? null : this.sup.gate.membership(def, input);
    if (direct) {
      const issues = directIssues(def.compiled.doc, req.definition !== undefined ? '/definition' : '');
      // A queued execution lives in the journal, which a direct one never touches while it runs.
      if (concurrency !== null) issues.push({ path: '/durability', message: `${def.row.name} has a concurrency limit: its executions are journaled (queued ones must survive a restart)` });
      if (issues.length > 0) throw new ValidationError('a direct execution (durability none) cannot wait: no wait steps, no sleep over 60 s, no concurrency limit', issues, ErrorCode.directNotAllowed);
    }
    // After every check that may refuse the request and with no await before the spawn: concurrent starts cannot pass the quota together.
    if (req.kind !== 'task') this.sup.admitStart(req.tenant);
    const trace = callerTrace(req);
    // One literal of a fixed shape, no spreads: V8 copied the spread versions property by property (~2% of the server's main thread at 64 clients).
    const start: SpawnRequest & { priority: number; scope: ExecutionScope | null } = {
      tenant: req.tenant, def, input, labels: req.labels ?? {}, parentId: null, parentStepId: null, idempotencyKey: req.idempotencyKey ?? null,
      requestHash: req.requestHash ?? null, dynamicDoc: storedDocument(req), traceparent: trace.traceparent, tracestate: trace.tracestate,
      kind: req.kind === 'task' ? 'task' : 'execution', direct, scope: req.scope ?? null, priority: req.priority ?? PRIORITY.default, concurrency, slot: null,
    };
    // Ahead of the new row in the same batch: the unique index on keys sees the old one cleared first. The row is
    // stored: like any later row of an execution, it carries no input or definition (written once, with its first).
    if (keyFrom !== undefined) this.sup.queue.appendRow({ ...keyFrom, idempotencyKey: null, requestHash: null, input: null, definition: null });
    // Past its workflow's concurrency limit (or behind executions queued before it): queued, durable, started later in priority order.
    start.slot = concurrency === null ? null : this.sup.gate.admit(req.tenant, def.row.name, concurrency);
    if (concurrency !== null && start.slot === null) return { execution: await this.sup.gate.enqueue({ ...start, membership: concurrency }), replayed: false };
    const rec = this.sup.spawn(start);
    const view = rec.toView();
    if (direct) return { execution: view, replayed: false };
    await this.sup.queue.flushed();
    this.sup.assertKept(rec);
    // Steps of effect-free in-process agents run inside the start's commit: when everything the execution did is
    // durable, the answer shows it (a flow finished by then answers `completed`, and the client need not wait for it).
    return { execution: rec.committedSeq === rec.lastSeq ? rec.toView() : view, replayed: false };
  }

  private resolveDefinition(req: StartRequest): LoadedDefinition {
    if (req.definition !== undefined) {
      const issues = this.sup.registry.validate(req.tenant, req.definition);
      if (issues.length > 0) throw new ValidationError('the flow document is invalid', issues.map((i) => ({ path: `/definition${i.path}`, message: i.message })), ErrorCode.invalidDefinition);
      return this.sup.registry.loadDynamic(req.tenant, req.definition as FlowDocument, this.sup.clock.now());
    }
    const name = req.workflow ?? '';
    if (!this.sup.registry.has(req.tenant, name)) throw new ValidationError(`no workflow definition named ${name}`, [{ path: '/workflow', message: 'unknown workflow' }], ErrorCode.definitionNotFound);
    let row;
    try {
      row = this.sup.registry.get(req.tenant, name, req.version);
    } catch {
      throw new ValidationError(`no version ${req.version} of ${name}`, [{ path: '/version', message: 'unknown version' }], ErrorCode.definitionNotFound);
    }
    if (row.retired) throw new ConflictError(ErrorCode.definitionRetired, `workflow ${name} is retired`);
    return this.sup.registry.load1(row);
  }

  update(tenant: string, id: string, patch: { labels?: Record<string, string>; context?: Record<string, unknown> }) {
    return this.sup.act(tenant, id, (rec) => {
      this.sup.requireActive(rec);
      if (patch.labels) rec.labels = { ...rec.labels, ...patch.labels };
      this.sup.deliver(rec, { type: 'UPDATE', labels: patch.labels ?? null, context: patch.context ?? null, at: this.sup.clock.now() });
    });
  }

  async cancel(tenant: string, id: string, reason?: string, kind: ExecutionKind = 'execution') {
    const finished = kind === 'task' ? ErrorCode.taskFinished : ErrorCode.executionFinished;
    // A queued execution has no actor: its cancel is written by the concurrency gate (no slot was ever taken).
    const queued = kind === 'execution' ? await this.sup.gate.cancelQueued(tenant, id, reason) : undefined;
    if (queued !== undefined) return queued;
    return this.sup.act(tenant, id, (rec) => {
      if (TERMINAL_STATUSES.has(rec.status)) throw new ConflictError(finished, `${kind} ${rec.id} is ${rec.status}`);
      this.sup.deliver(rec, { type: 'CANCEL', reason: reason ?? null, at: this.sup.clock.now() });
    }, finished, kind);
  }

  pause(tenant: string, id: string) {
    return this.sup.act(tenant, id, (rec) => {
      this.sup.requireActive(rec);
      if (rec.status !== 'running' && rec.status !== 'waiting') throw new ConflictError(ErrorCode.invalidState, `execution ${id} is ${rec.status}`);
      this.sup.deliver(rec, { type: 'PAUSE', at: this.sup.clock.now() });
    });
  }

  resume(tenant: string, id: string) {
    return this.sup.act(tenant, id, (rec) => {
      if (rec.status !== 'paused') throw new ConflictError(ErrorCode.invalidState, `execution ${id} is ${rec.status}, not paused`);
      this.sup.deliver(rec, { type: 'RESUME', at: this.sup.clock.now() });
    });
  }

  retry(tenant: string, id: string, note?: string) {
    return this.sup.act(tenant, id, (rec) => {
      const stepId = rec.context().failedStep;
      if ((rec.status !== 'failed' && rec.status !== 'timed_out') || !stepId) throw new ConflictError(ErrorCode.notRetryable, `execution ${id} is ${rec.status}`);
      this.sup.gate.reopen(rec, () => this.sup.deliver(rec, { type: 'RETRY', stepId, note: note ?? null, at: this.sup.clock.now() }));
    }, ErrorCode.notRetryable);
  }

  retryStep(tenant: string, id: string, stepId: string) {
    return this.sup.act(tenant, id, (rec) => {
      if (!rec.def.compiled.stepTypes.has(stepId)) throw new NotFoundError(ErrorCode.stepNotFound, `no step ${stepId} in ${rec.workflow}`);
      const s = rec.context().steps[stepId];
      if ((rec.status !== 'failed' && rec.status !== 'timed_out') || !s || (s.status !== 'failed' && s.status !== 'cancelled')) {
        throw new ConflictError(ErrorCode.notRetryable, `step ${stepId} has not failed`);
      }
      this.sup.gate.reopen(rec, () => this.sup.deliver(rec, { type: 'RETRY', stepId, note: null, at: this.sup.clock.now() }));
    }, ErrorCode.notRetryable);
  }

  signal(tenant: string, id: string, name: string, s: SignalRequest) {
    return this.sup.act(tenant, id, (rec) => {
      this.sup.requireActive(rec);
      if (!rec.def.compiled.signals.has(name)) throw new ConflictError(ErrorCode.unknownSignal, `${rec.workflow} has no wait step for signal ${name}`);
      if (rec.context().signals.length >= LIMITS.maxBufferedSignals) throw new ConflictError(ErrorCode.signalBufferFull, 'too many buffered signals');
      const ev: FlowEvent = s.reject
        ? { type: 'SIGNAL', name, payload: null, reject: true, reason: s.reason ?? null, at: this.sup.clock.now() }
        : { type: 'SIGNAL', name, payload: s.payload ?? null, reject: false, reason: null, at: this.sup.clock.now() };
      this.sup.deliver(rec, ev);
    });
  }
}

/** The one-off document stored with the execution; an instantiated template's records which template version it came from (`rowToView` shows it). */
function storedDocument(req: StartRequest): unknown {
  if (req.definition === undefined) return null;
  return req.template ? { ...(req.definition as FlowDocument), template: { name: req.template.name, version: req.template.version } } : req.definition;
}

/** The caller's trace context, normalized; an invalid `traceparent` is dropped (and its `tracestate` with it). */
function callerTrace(req: StartRequest): { traceparent: string | null; tracestate: string | null } {
  const p = parseTraceparent(req.traceparent);
  if (!p) return { traceparent: null, tracestate: null };
  return { traceparent: formatTraceparent(p.traceId, p.spanId, p.flags), tracestate: parseTracestate(req.tracestate) };
}

/** Where a flow cannot run as a direct execution: `wait` steps and sleeps over DIRECT_MAX_SLEEP_MS (or with `until`). */
function directIssues(doc: FlowDocument, base: string): Issue[] {
  const issues: Issue[] = [];
  const visit = (steps: readonly Step[], path: string): void =>
    steps.forEach((step, i) => {
      const at = `${path}/${i}`;
      if (step.type === 'wait') issues.push({ path: `${at}/type`, message: 'a direct execution cannot wait for a signal' });
      else if (step.type === 'sleep' && (step.until !== undefined || (step.ms ?? 0) > DIRECT_MAX_SLEEP_MS)) issues.push({ path: at, message: `a direct execution sleeps at most ${DIRECT_MAX_SLEEP_MS} ms` });
      else if (step.type === 'parallel') step.branches.forEach((b, k) => visit(b, `${at}/branches/${k}`));
    });
  visit(doc.steps, `${base}/steps`);
  return issues;
}
