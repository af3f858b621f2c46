/**
 * @module templates/template-registry — the versioned templates of every tenant (held in memory, written
 * to the store), the rules of a new version, and their resolution along `extends` (cached by version).
 */
import { ConflictError, ErrorCode, NotFoundError, ActorflowError, ValidationError, type Issue } from '../common/errors.ts';
import type { Page } from '../common/execution.ts';
import { pointerToken } from '../common/json.ts';
import { LruCache } from '../common/lru-cache.ts';
import { localWrites, type Applier, type SharedWrites } from '../common/shared-writes.ts';
import { VersionsByName } from '../common/versions-by-name.ts';
import { deepEqual } from '../engine/flow/expressions.ts';
import { NAME_PATTERN } from '../engine/flow/flow-schema.ts';
import type { PageRequest } from '../engine/types.ts';
import type { TemplateRow, TemplateStore } from '../store/types.ts';
import { type Inherited, TEMPLATE_ONLY_FIELDS, inherit, issueInRequest } from './inherit.ts';
import { type ParameterValidator, compileParameters, parameterShapeIssues } from './parameters.ts';
import { hasPlaceholder, placeholderIssues, substitute } from './placeholders.ts';

/** Templates in one `extends` chain at most, the template itself included. */
export const MAX_LEVELS = 8;

/** Resolved templates kept: at most `entries`, and about `bytes` of heap (see resolvedBytes). */
export const RESOLVED_TEMPLATE_CACHE = { entries: 1000, bytes: 16 * 1_048_576 } as const;

const NAME_RE = new RegExp(NAME_PATTERN, 'u');
const EXTENDS_RE = new RegExp(`^(${NAME_PATTERN.slice(1, -1)})(?:@([1-9][0-9]{0,8}))?$`, 'u');

/** A template version with its chain applied: what GET shows, what instantiations start from. */
export interface ResolvedTemplate extends Inherited {
  readonly row: TemplateRow;
  /** The names along its chain, itself first. */
  readonly chain: readonly string[];
  /** Fills in the defaults of `params`, then checks them. */
  readonly params: ParameterValidator;
}

/** Rough heap of a resolved template: its parameters' validator (an Ajv of its own, ~20 KiB + ~20× the schema) and its document. */
function resolvedBytes(r: Inherited): number {
  return 20_480 + 20 * JSON.stringify(r.parameters).length + 2 * JSON.stringify(r.document).length;
}

const isLive = (r: TemplateRow): boolean => r.deletedAt === null;

/**
 * A write of templates (common/shared-writes.ts: in cluster mode every node applies it, in log order).
 * `put` adds a version: `explicit` keeps its version (or conflicts), `next` takes the one after the
 * highest as the apply finds it, `unless-latest` too unless the latest live one has the same document.
 */
export type TemplateOp =
  | { readonly kind: 'put'; readonly row: TemplateRow; readonly mode: 'explicit' | 'next' | 'unless-latest' }
  | { readonly kind: 'delete'; readonly tenant: string; readonly name: string; readonly version: number | undefined; readonly at: number };

type PutOutcome = { row: TemplateRow; created: boolean };

/** The rule of an explicit version: the same live document again is that row, anything else conflicts, as does one below the highest. */
function explicitVersionRule(rows: readonly TemplateRow[], asked: number, document: Record<string, unknown>, name: string): PutOutcome | undefined {
  const existing = rows.find((r) => r.version === asked);
  if (existing) {
    if (isLive(existing) && deepEqual(existing.document, document)) return { row: existing, created: false };
    throw new ConflictError(ErrorCode.versionExists, isLive(existing) ? `version ${asked} of template ${name} exists with a different document` : `version ${asked} of template ${name} was deleted; a version number is never reused`);
  }
  const highest = rows[rows.length - 1]?.version ?? 0;
  if (asked < highest) throw new ConflictError(ErrorCode.versionConflict, `version ${asked} is below the latest (${highest})`);
  return undefined;
}

export class TemplateRegistry {
  /** Deleted versions included (hidden, but children may still inherit from them). */
  private readonly rows = new VersionsByName<TemplateRow>();
  /** Versions never change, and deleted ones stay resolvable: an entry never goes stale. */
  private readonly resolved = new LruCache<ResolvedTemplate>(RESOLVED_TEMPLATE_CACHE.entries, RESOLVED_TEMPLATE_CACHE.bytes);

  constructor(
    private readonly store: TemplateStore,
    /** Issues of a flow document as `tenant` would register it (the engine's validator). */
    private readonly validateFlow: (tenant: string, doc: unknown) => Issue[],
    private readonly now: () => number,
    private readonly writes: SharedWrites = localWrites,
  ) {}

  /** Where writes go (set by `load`: ops are applied to what it loaded). */
  private write: Applier<TemplateOp, PutOutcome | undefined> | undefined;

  /** Loads every stored template (all tenants) into memory; from then on the registry applies the writes of templates. */
  async load(): Promise<void> {
    this.rows.load(await this.store.listAllTemplates());
    this.write = this.writes.channel<TemplateOp, PutOutcome | undefined>('templates', (op) => this.apply(op));
    await this.writes.caughtUp('templates');
  }

  private send(op: TemplateOp): Promise<PutOutcome | undefined> {
    if (this.write === undefined) throw new Error('templates are written only after load()');
    return this.write(op);
  }

  /** Applies one write of templates to memory and the store (on every node in cluster mode): deterministic, idempotent. */
  private async apply(op: TemplateOp): Promise<PutOutcome | undefined> {
    if (op.kind === 'delete') {
      const rows = op.version === undefined ? this.rows.of(op.tenant, op.name).filter(isLive) : [this.live(op.tenant, op.name, op.version)];
      if (rows.length === 0) throw new NotFoundError(ErrorCode.templateNotFound, `no template named ${op.name}`);
      await this.store.markTemplateDeleted(op.tenant, op.name, op.version, op.at);
      for (const r of rows) r.deletedAt = op.at;
      return undefined;
    }
    const versions = this.rows.of(op.row.tenant, op.row.name, true);
    let row = op.row;
    if (op.mode === 'explicit') {
      const refused = explicitVersionRule(versions, row.version, row.document, row.name);
      if (refused !== undefined) return refused;
    } else {
      const latest = versions.filter(isLive).at(-1);
      if (op.mode === 'unless-latest' && latest && deepEqual(latest.document, row.document)) return { row: latest, created: false };
      // Applied before (a restart between this apply and the record of its position): the same row again.
      const again = versions.find((r) => r.createdAt === row.createdAt && deepEqual(r.document, row.document));
      if (again !== undefined) return { row: again, created: false };
      // The version after the highest as this op finds it: a racing write of another node may have taken the one the writer saw.
      const version = (versions[versions.length - 1]?.version ?? 0) + 1;
      if (version !== row.version) row = { ...row, version };
    }
    // In memory before the write: a concurrent create of the same name sees this version taken.
    versions.push(row);
    try {
      await this.store.insertTemplate(row);
    } catch (err) {
      versions.splice(versions.indexOf(row), 1);
      throw err;
    }
    return { row, created: true };
  }

  /** The latest live version of `name`, or version `version` if live. @throws NotFoundError template_not_found */
  live(tenant: string, name: string, version?: number): TemplateRow {
    const rows = this.rows.of(tenant, name).filter(isLive);
    const row = version === undefined ? rows[rows.length - 1] : rows.find((r) => r.version === version);
    if (!row) throw new NotFoundError(ErrorCode.templateNotFound, version === undefined || rows.length === 0 ? `no template named ${name}` : `no version ${version} of template ${name}`);
    return row;
  }

  /** `tenant` has a live version of `name`. */
  has(tenant: string, name: string): boolean {
    return this.rows.of(tenant, name).some(isLive);
  }

  /** The live versions of `name`, ascending; the cursor is the last version of the page before. @throws NotFoundError template_not_found */
  versions(tenant: string, name: string, page: PageRequest): Page<TemplateRow> {
    const live = this.rows.of(tenant, name).filter(isLive);
    if (live.length === 0) throw new NotFoundError(ErrorCode.templateNotFound, `no template named ${name}`);
    const after = page.cursor ? Number(page.cursor) : 0;
    const rest = live.filter((r) => r.version > after);
    const items = rest.slice(0, page.limit);
    return { items, nextCursor: rest.length > page.limit ? String(items[items.length - 1]?.version) : null };
  }

  /** The latest live version of each template of `tenant` whose name starts with `prefix`, by name. */
  list(tenant: string, prefix: string | undefined, page: PageRequest): Page<TemplateRow> {
    const { names, nextCursor } = this.rows.page(tenant, (n, rows) => (!prefix || n.startsWith(prefix)) && rows.some(isLive), page);
    return { items: names.map((n) => this.live(tenant, n)), nextCursor };
  }

  /**
   * A new version (rules of docs/api/templates.md): without `version` the latest + 1 (deleted versions count:
   * a number is never reused); an existing `version` is returned unchanged when the document is identical,
   * else `version_exists`; one below the latest is `version_conflict`. `unlessLatest`: a document identical
   * to the latest live version returns it (the machines directory at every boot).
   * @throws ValidationError template_invalid, with the request's paths
   */
  async create(tenant: string, body: Readonly<Record<string, unknown>>, opts: { unlessLatest?: boolean } = {}): Promise<{ row: TemplateRow; created: boolean }> {
    const { version: asked, ...document } = body;
    const name = document['name'];
    if (typeof name !== 'string' || !NAME_RE.test(name)) {
      throw new ValidationError('the template is invalid', [{ path: '/name', message: 'must be a name: 1-128 characters of A-Z a-z 0-9 _ . - (starting with a letter or digit)' }], ErrorCode.templateInvalid);
    }
    const rows = this.rows.of(tenant, name);
    const highest = rows[rows.length - 1]?.version ?? 0;
    const latest = rows.filter(isLive).at(-1);
    if (opts.unlessLatest === true && asked === undefined && latest && deepEqual(latest.document, document)) return { row: latest, created: false };
    if (asked !== undefined) {
      if (typeof asked !== 'number' || !Number.isInteger(asked) || asked < 1) throw new ValidationError('the template is invalid', [{ path: '/version', message: 'must be an integer ≥ 1' }], ErrorCode.templateInvalid);
      // Checked here too: a refusal this node already knows of costs no write.
      const refused = explicitVersionRule(rows, asked, document, name);
      if (refused !== undefined) return refused;
    }
    const { resolved, issues } = this.check(tenant, name, document);
    if (!resolved) throw new ValidationError('the template is invalid; see `errors`', issues, ErrorCode.templateInvalid);
    const row: TemplateRow = { tenant, name, version: asked ?? highest + 1, document, parent: resolved.parent, createdAt: this.now(), deletedAt: null };
    const mode = asked !== undefined ? 'explicit' : opts.unlessLatest === true ? 'unless-latest' : 'next';
    return (await this.send({ kind: 'put', row, mode })) as PutOutcome;
  }

  /** Hides one live version, or every live one. @throws NotFoundError template_not_found */
  async delete(tenant: string, name: string, version?: number): Promise<void> {
    const rows = version === undefined ? this.rows.of(tenant, name).filter(isLive) : [this.live(tenant, name, version)];
    if (rows.length === 0) throw new NotFoundError(ErrorCode.templateNotFound, `no template named ${name}`);
    await this.send({ kind: 'delete', tenant, name, version, at: this.now() });
  }

  /** A stored version with its chain applied (cached). */
  resolve(row: TemplateRow): ResolvedTemplate {
    return this.resolveAt(row, 1);
  }

  private resolveAt(row: TemplateRow, level: number): ResolvedTemplate {
    const key = keyOf(row);
    const hit = this.resolved.get(key);
    if (hit) return hit;
    // Every version was checked when created; these only guard against a store edited by hand.
    const broken = (why: string) => new ActorflowError(ErrorCode.templateInvalid, `template ${row.name} version ${row.version} cannot be resolved: ${why}`);
    if (level > MAX_LEVELS) throw broken(`its chain is over ${MAX_LEVELS} levels`);
    let parent: ResolvedTemplate | null = null;
    if (row.parent) {
      const p = this.rows.of(row.tenant, row.parent.name).find((r) => r.version === row.parent?.version);
      if (!p) throw broken(`its parent ${row.parent.name}@${row.parent.version} is missing`);
      parent = this.resolveAt(p, level + 1);
    }
    const merged = inherit(parent, row.document);
    const compiled = compileParameters(merged.parameters);
    if (!compiled.validator) throw broken('its parameters do not compile');
    const r: ResolvedTemplate = { row, chain: [row.name, ...(parent?.chain ?? [])], parameters: merged.parameters, document: merged.document, params: compiled.validator };
    this.resolved.set(key, r, resolvedBytes(r));
    return r;
  }

  /** Every issue of a new version of `name`; when none, what it resolves to. */
  private check(tenant: string, name: string, own: Readonly<Record<string, unknown>>): { resolved: (Omit<ResolvedTemplate, 'row'> & { parent: TemplateRow['parent'] }) | null; issues: Issue[] } {
    const issues = parameterShapeIssues(own['parameters']);
    if (own['steps'] !== undefined && !Array.isArray(own['steps'])) issues.push({ path: '/steps', message: 'must be an array of steps' });
    const parent = own['extends'] === undefined ? null : this.parentOf(tenant, name, own['extends'], issues);
    if (issues.length > 0) return { resolved: null, issues };
    const merged = inherit(parent, own);
    const known = new Set(Object.keys(merged.parameters['properties'] as Record<string, unknown>));
    for (const [k, v] of Object.entries(own)) if (!TEMPLATE_ONLY_FIELDS.has(k)) issues.push(...placeholderIssues(v, `/${pointerToken(k)}`, known));
    issues.push(...stepIdIssues(own['steps'], '/steps'));
    const compiled = compileParameters(merged.parameters);
    issues.push(...compiled.issues);
    if (issues.length > 0 || !compiled.validator) return { resolved: null, issues };
    // The flow with the defaults in; a placeholder without one stays, and what the validator says of its string waits for the instantiation.
    const probe = substitute(merged.document, compiled.validator.defaults, true);
    const open = (path: string) => probe.unresolved.some((u) => path === u || path.startsWith(`${u}/`));
    issues.push(...this.validateFlow(tenant, probe.value).filter((i) => !open(i.path)).map((i) => issueInRequest(i, merged.origins)));
    if (issues.length > 0) return { resolved: null, issues };
    const chain = [name, ...(parent?.chain ?? [])];
    return { resolved: { chain, parameters: merged.parameters, document: merged.document, params: compiled.validator, parent: parent ? { name: parent.row.name, version: parent.row.version } : null }, issues };
  }

  /** The parent `extends` names (a live version), or null with its issue added. */
  private parentOf(tenant: string, name: string, ext: unknown, issues: Issue[]): ResolvedTemplate | null {
    const m = typeof ext === 'string' ? EXTENDS_RE.exec(ext) : null;
    const fail = (message: string) => (issues.push({ path: '/extends', message }), null);
    if (!m) return fail('must name a template: <name> (its latest version) or <name>@<version>');
    const parentName = m[1] as string;
    const version = m[2] === undefined ? undefined : Number(m[2]);
    if (parentName === name) return fail(`a template cannot extend itself (${name} → ${name} is a cycle)`);
    let row: TemplateRow;
    try {
      row = this.live(tenant, parentName, version);
    } catch (err) {
      return fail(`unknown parent: ${(err as Error).message}`);
    }
    const parent = this.resolve(row);
    const loop = parent.chain.indexOf(name);
    if (loop >= 0) return fail(`a cycle: ${[name, ...parent.chain.slice(0, loop + 1)].join(' → ')}`);
    if (parent.chain.length + 1 > MAX_LEVELS) return fail(`the chain would be ${parent.chain.length + 1} templates long (${[name, ...parent.chain].join(' → ')}); at most ${MAX_LEVELS}`);
    return parent;
  }
}

const keyOf = (row: TemplateRow): string => `${row.tenant}\u0000${row.name}\u0000${row.version}`;

/** Step ids are what inheritance matches steps by: never a placeholder (parallel branches included). */
function stepIdIssues(steps: unknown, path: string): Issue[] {
  if (!Array.isArray(steps)) return [];
  return steps.flatMap((s: unknown, i): Issue[] => {
    if (typeof s !== 'object' || s === null) return [];
    const step = s as Record<string, unknown>;
    const own: Issue[] = typeof step['id'] === 'string' && hasPlaceholder(step['id']) ? [{ path: `${path}/${i}/id`, message: 'a step id cannot be a placeholder: inheritance matches steps by id' }] : [];
    const branches = Array.isArray(step['branches']) ? step['branches'] : [];
    return [...own, ...branches.flatMap((b: unknown, k) => stepIdIssues(b, `${path}/${i}/branches/${k}`))];
  });
}
