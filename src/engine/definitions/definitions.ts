/** @module engine/definitions/definitions — versioned definitions held in memory (loaded at boot) and their compiled machines. */
import type { ValidateFunction } from 'ajv';
import type { AnyStateMachine } from 'xstate';
import { ActorflowError, ConflictError, ErrorCode, NotFoundError, ValidationError, type Issue } from '../../common/errors.ts';
import type { DefinitionView, Page } from '../../common/execution.ts';
import type { FlowDocument } from '../../common/flow.ts';
import type { TemplateInstance } from '../../common/template.ts';
import { iso } from '../../common/clock.ts';
import { LruCache } from '../../common/lru-cache.ts';
import { VersionsByName } from '../../common/versions-by-name.ts';
import type { DefinitionRow, Store } from '../../store/types.ts';
import { localWrites, type Applier, type SharedWrites } from '../../common/shared-writes.ts';
import { hostLogic } from '../code-machines/host-logic.ts';
import { describeMachine, isMachineDocument, type MachineDocument } from '../code-machines/machine-info.ts';
import { compileFlow, type CompiledFlow } from '../flow/compile-flow.ts';
import { flowActions, withEffects, type FlowMachine } from '../flow/compile/flow-machine.ts';
import { deepEqual } from '../flow/expressions.ts';
import type { FlowEffects } from '../flow/flow-context.ts';
import { contentKey, inputSchemas, schemaIssues } from './schema-cache.ts';
import { outputChecksOf, type OutputChecks } from '../runtime/task-checks.ts';
import type { PageRequest } from '../types.ts';
import { validateFlow } from '../flow/validate-flow.ts';

export interface LoadedDefinition {
  readonly row: DefinitionRow;
  /** What the document declares; its machine, with this engine's effects, is `machine`. */
  readonly compiled: Omit<CompiledFlow, 'machine'>;
  /** The compiled machine given this engine's effects (provide()): what its actors run. */
  readonly machine: FlowMachine;
  readonly validateInput: ValidateFunction | null;
  /** Validators of its task steps' `outputSchema`s (null: no step declares one). */
  readonly outputChecks: OutputChecks;
  /** Its executions can be rebuilt by replaying their inputs (a flow document's machine is deterministic; a user's machine need not be). */
  readonly replayable: boolean;
}

/** Compiled one-off documents kept: at most `entries`, and about `bytes` of heap (see compiledBytes). */
export const DYNAMIC_DEFINITION_CACHE = { entries: 256, bytes: 32 * 1_048_576 } as const;

/** Rough heap of a compiled flow from its document's JSON length (measured: ~40 KiB + ~140× the JSON; since the machines are built through setup() and provide() ~27 KiB + ~45×, so this over-counts). */
export function compiledBytes(jsonLength: number): number {
  return 40_960 + 140 * jsonLength;
}

/** What a flow document compiles to, shared by every execution of equal documents. */
type Compiled = Pick<LoadedDefinition, 'compiled' | 'machine' | 'validateInput' | 'outputChecks' | 'replayable'>;

export function toDefinitionView(row: DefinitionRow): DefinitionView {
  const view: DefinitionView = { name: row.name, version: row.version, source: row.source, retired: row.retired, createdAt: iso(row.createdAt) as string, document: row.document };
  if (row.template) view.template = row.template;
  return view;
}

/** The rule of an explicit version: the same document again is the existing row, another one conflicts, as does one below the latest. */
function explicitVersionRule(versions: readonly DefinitionRow[], version: number, doc: unknown, name: string): PutOutcome | undefined {
  const existing = versions.find((v) => v.version === version);
  if (existing) {
    if (deepEqual(withoutVersion(existing.document), withoutVersion(doc))) return { row: existing, created: false };
    throw new ConflictError(ErrorCode.versionExists, `version ${version} of ${name} exists with a different document`);
  }
  const latest = versions[versions.length - 1];
  if (latest && version < latest.version) throw new ConflictError(ErrorCode.versionConflict, `version ${version} is below the latest (${latest.version})`);
  return undefined;
}

function withoutVersion(doc: unknown): unknown {
  if (!doc || typeof doc !== 'object') return doc;
  const { version: _v, ...rest } = doc as Record<string, unknown>;
  return rest;
}

/**
 * A write of definitions (common/shared-writes.ts: in cluster mode every node applies it, in log order).
 * `put` adds a version: `explicit` keeps the document's version (or conflicts), `next` takes the one
 * after the latest as the apply finds it, `unless-latest` too unless the latest has the same content.
 */
export type DefinitionOp =
  | { readonly kind: 'put'; readonly row: DefinitionRow; readonly mode: 'explicit' | 'next' | 'unless-latest' }
  | { readonly kind: 'retire'; readonly tenant: string; readonly name: string };

/** What a `put` did: the stored row (an existing one when `created` is false). */
export interface PutOutcome {
  readonly row: DefinitionRow;
  readonly created: boolean;
}

/** The signals of a machine that accepts any event (`*`). */
const ANY_NAME: ReadonlySet<string> = new (class extends Set<string> {
  override has(): boolean {
    return true;
  }
})();

export class DefinitionRegistry {
  private readonly rows = new VersionsByName<DefinitionRow>();
  private readonly compiled = new Map<string, LoadedDefinition>();
  /** One-off documents by content: inline starts (and their recovery) that repeat a document compile it once. */
  private readonly dynamic = new LruCache<Compiled>(DYNAMIC_DEFINITION_CACHE.entries, DYNAMIC_DEFINITION_CACHE.bytes);
  /** The engine's effects as the named actions of every machine it runs (built once). */
  private readonly actions: ReturnType<typeof flowActions>;
  /** XState machines of the machines directory, by tenant, name and source hash (their rows hold only a description). */
  private readonly code = new Map<string, AnyStateMachine>();

  /** Where writes go (set by `load`: ops are applied to what it loaded). */
  private write: Applier<DefinitionOp, PutOutcome | undefined> | undefined;

  constructor(
    private readonly store: Store,
    private readonly effects: FlowEffects,
    private readonly now: () => number,
    private readonly writes: SharedWrites = localWrites,
  ) {
    this.actions = flowActions(effects);
  }

  /** Loads every stored definition (all tenants) into memory; from then on the registry applies the writes of definitions. */
  async load(rows: readonly DefinitionRow[]): Promise<void> {
    this.rows.load(rows);
    this.write = this.writes.channel<DefinitionOp, PutOutcome | undefined>('definitions', (op) => this.apply(op));
    // Cluster mode: what other nodes registered meanwhile first (a restarted node missed some).
    await this.writes.caughtUp('definitions');
  }

  private send(op: DefinitionOp): Promise<PutOutcome | undefined> {
    if (this.write === undefined) throw new Error('definitions are written only after load()');
    return this.write(op);
  }

  /** The versions of a name, ascending (`create`: the list kept, to push a new version to). */
  private versions(tenant: string, name: string, create = false): DefinitionRow[] {
    return this.rows.of(tenant, name, create);
  }

  validate(tenant: string, doc: unknown): Issue[] {
    return validateFlow(doc, { knownWorkflows: (name) => this.versions(tenant, name).length > 0 || (doc as { name?: unknown })?.name === name });
  }

  /**
   * Applies the version rules of docs/api/definitions.md; returns the stored row and whether it was created.
   * With `template` (an instantiated template) the row's source is `template`.
   */
  async register(tenant: string, doc: unknown, source: 'document' | 'code' = 'document', template?: TemplateInstance, unlessLatest = false): Promise<PutOutcome> {
    const issues = this.validate(tenant, doc);
    if (issues.length > 0) throw new ValidationError('the flow document is invalid', issues, ErrorCode.invalidDefinition);
    const flow = doc as FlowDocument;
    const versions = this.versions(tenant, flow.name);
    const latest = versions[versions.length - 1];
    let version = flow.version;
    if (version !== undefined) {
      // Checked here too: a refusal this node already knows of costs no write.
      const refused = explicitVersionRule(versions, version, doc, flow.name);
      if (refused !== undefined) return refused;
    } else {
      version = (latest?.version ?? 0) + 1;
    }
    const row: DefinitionRow = { tenant, name: flow.name, version, source: template ? 'template' : source, document: { ...flow, version }, createdAt: this.now(), retired: false };
    if (template) row.template = template;
    return (await this.send({ kind: 'put', row, mode: flow.version !== undefined ? 'explicit' : unlessLatest ? 'unless-latest' : 'next' })) as PutOutcome;
  }

  /** Applies one write of definitions to memory and the store (on every node in cluster mode): deterministic, idempotent. */
  private async apply(op: DefinitionOp): Promise<PutOutcome | undefined> {
    if (op.kind === 'retire') {
      const versions = this.versions(op.tenant, op.name);
      if (versions.length === 0) throw new NotFoundError(ErrorCode.definitionNotFound, `no workflow definition named ${op.name}`);
      await this.store.setRetired(op.tenant, op.name, true);
      for (const v of versions) v.retired = true;
      return undefined;
    }
    const versions = this.versions(op.row.tenant, op.row.name, true);
    const latest = versions[versions.length - 1];
    let row = op.row;
    if (op.mode === 'explicit') {
      const refused = explicitVersionRule(versions, row.version, row.document, row.name);
      if (refused !== undefined) return refused;
    } else {
      if (op.mode === 'unless-latest' && latest !== undefined && deepEqual(withoutVersion(latest.document), withoutVersion(row.document))) return { row: latest, created: false };
      // Applied before (a restart between this apply and the record of its position): the same row again.
      const again = versions.find((v) => v.createdAt === row.createdAt && v.source === row.source && deepEqual(withoutVersion(v.document), withoutVersion(row.document)));
      if (again !== undefined) return { row: again, created: false };
      // The version after the latest as this op finds it: a racing write of another node may have taken the one the writer saw.
      const version = (latest?.version ?? 0) + 1;
      if (version !== row.version) row = { ...row, version, document: { ...(row.document as Record<string, unknown>), version } };
    }
    await this.store.putDefinition(row);
    if (latest?.retired) {
      await this.store.setRetired(row.tenant, row.name, false);
      for (const v of versions) v.retired = false;
    }
    versions.push(row);
    return { row, created: true };
  }

  /**
   * Registers an XState machine (`machines` export of a machines-directory module) as workflow `name`:
   * a new version when its source hash differs from the latest version's, else the latest.
   */
  async registerMachine(tenant: string, name: string, machine: AnyStateMachine): Promise<{ row: DefinitionRow; created: boolean }> {
    const { doc, issues } = describeMachine(name, machine);
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(name)) issues.push({ path: '/name', message: 'a workflow name is 1-128 of A-Z a-z 0-9 . _ - (not starting with . _ -)' });
    if (issues.length > 0) throw new ValidationError(`the machine ${name} cannot run as a workflow`, issues, ErrorCode.invalidDefinition);
    this.code.set(`${tenant}\u0000${name}\u0000${doc.hash}`, machine);
    const versions = this.versions(tenant, name);
    const latest = versions[versions.length - 1];
    if (latest && isMachineDocument(latest.document) && latest.document.hash === doc.hash) return { row: latest, created: false };
    const version = (latest?.version ?? 0) + 1;
    const row: DefinitionRow = { tenant, name, version, source: 'code', document: { ...doc, version }, createdAt: this.now(), retired: false };
    // Unless the latest is this machine already: nodes booting together with the same machines directory add one version.
    return (await this.send({ kind: 'put', row, mode: 'unless-latest' })) as PutOutcome;
  }

  get(tenant: string, name: string, version?: number): DefinitionRow {
    const versions = this.versions(tenant, name);
    const row = version === undefined ? versions[versions.length - 1] : versions.find((v) => v.version === version);
    if (!row) throw new NotFoundError(ErrorCode.definitionNotFound, version === undefined ? `no workflow definition named ${name}` : `no version ${version} of ${name}`);
    return row;
  }

  /** Definitions (names) of `tenant`. */
  count(tenant: string): number {
    return this.rows.count(tenant);
  }

  has(tenant: string, name: string): boolean {
    return this.versions(tenant, name).length > 0;
  }

  list(tenant: string, prefix: string | undefined, page: PageRequest): Page<DefinitionView> {
    const { names, nextCursor } = this.rows.page(tenant, (n, versions) => versions.length > 0 && (!prefix || n.startsWith(prefix)), page);
    return { items: names.map((n) => toDefinitionView(this.get(tenant, n))), nextCursor };
  }

  listVersions(tenant: string, name: string, page: PageRequest): Page<DefinitionView> {
    const versions = this.versions(tenant, name);
    if (versions.length === 0) throw new NotFoundError(ErrorCode.definitionNotFound, `no workflow definition named ${name}`);
    const after = page.cursor ? Number(page.cursor) : 0;
    const rest = versions.filter((v) => v.version > after);
    const items = rest.slice(0, page.limit);
    return { items: items.map(toDefinitionView), nextCursor: rest.length > page.limit ? String(items[items.length - 1]?.version) : null };
  }

  async retire(tenant: string, name: string): Promise<void> {
    if (this.versions(tenant, name).length === 0) throw new NotFoundError(ErrorCode.definitionNotFound, `no workflow definition named ${name}`);
    await this.send({ kind: 'retire', tenant, name });
  }

  /** The compiled machine of one stored version (cached). */
  load1(row: DefinitionRow): LoadedDefinition {
    const key = `${row.tenant}\u0000${row.name}\u0000${row.version}`;
    let c = this.compiled.get(key);
    if (!c) {
      c = { row, ...(isMachineDocument(row.document) ? this.hostMachine(row, row.document) : this.compileDoc(row.document as FlowDocument)) };
      this.compiled.set(key, c);
    }
    return c;
  }

  /** A one-off document stored with its execution; equal documents share one compiled machine and validator (bounded LRU). */
  loadDynamic(tenant: string, doc: FlowDocument, createdAt: number): LoadedDefinition {
    const json = JSON.stringify(doc);
    const key = contentKey(json);
    let c = this.dynamic.get(key);
    if (c === undefined) {
      c = this.compileDoc(doc);
      this.dynamic.set(key, c, compiledBytes(json.length));
    }
    return { row: { tenant, name: doc.name, version: doc.version ?? 0, source: 'document', document: doc, createdAt, retired: false }, ...c };
  }

  /** A registered XState machine, hosted so the supervisor runs it like a compiled flow (code-machines/host-logic.ts). */
  private hostMachine(row: DefinitionRow, doc: MachineDocument): Compiled {
    const machine = this.code.get(`${row.tenant}\u0000${row.name}\u0000${doc.hash}`);
    if (!machine) {
      throw new ActorflowError(ErrorCode.definitionCodeMissing, `version ${row.version} of ${row.name} is a machine (source ${doc.hash}) that the machines directory no longer exports`);
    }
    const signals: ReadonlySet<string> = doc.signals.includes('*') ? ANY_NAME : new Set(doc.signals);
    return {
      compiled: { doc: { name: row.name, steps: [] }, signals, stepTypes: new Map(Object.keys(doc.tasks).map((id) => [id, 'task' as const])) },
      // The supervisor's actors take any actor logic that has a FlowContext and FlowEvent inputs; it is typed for compiled flows.
      machine: hostLogic(machine, this.effects) as unknown as FlowMachine,
      validateInput: null,
      outputChecks: null,
      replayable: false,
    };
  }

  private compileDoc(doc: FlowDocument): Compiled {
    // Only the machine with effects is kept: the effect-free one it was provided from would double the heap.
    const { machine, ...compiled } = compileFlow(doc);
    return { compiled, machine: withEffects(machine, this.actions), validateInput: doc.inputSchema ? inputSchemas.compile(doc.inputSchema) : null, outputChecks: outputChecksOf(doc), replayable: true };
  }
}

/** ajv errors → JSON Pointer issues under `/input`. */
export function inputIssues(v: ValidateFunction): Issue[] {
  return schemaIssues(v, '/input');
}
