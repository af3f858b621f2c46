/** @module store/resources/auth — the rows and the store interface of API keys and the audit trail (re-exported by store/types.ts). */

/** One API key as stored: never the key itself, only its SHA-256 (hex). */
export interface ApiKeyRow {
  id: string;
  hash: string;
  name: string;
  tenant: string;
  scopes: string[];
  rateLimit: { rps: number; burst: number } | null;
  createdAt: number;
  lastUsedAt: number | null;
  revokedAt: number | null;
}

/** One audit entry (a state-changing API call). */
export interface AuditRow {
  at: number;
  keyId: string | null;
  tenant: string;
  method: string;
  route: string;
  targetId: string | null;
  status: number;
  requestId: string;
}

export interface AuditQuery {
  /** Only this tenant's entries; undefined = every tenant. */
  readonly tenant?: string | undefined;
  readonly keyId?: string | undefined;
  readonly route?: string | undefined;
  /** Epoch ms, inclusive. */
  readonly from?: number | undefined;
  /** Epoch ms, exclusive. */
  readonly to?: number | undefined;
  /** Entries with `seq` strictly below this one (newest first). */
  readonly beforeSeq?: number | undefined;
  readonly limit: number;
}

/** Credentials and the audit trail; kept apart from `Store` so the engine never sees them. */
export interface AuthStore {
  /** Every key, revoked ones included (loaded into memory at boot). */
  listKeys(): Promise<ApiKeyRow[]>;
  insertKey(row: ApiKeyRow): Promise<void>;
  revokeKey(id: string, at: number): Promise<void>;
  /** Batched last-used timestamps: one statement group per call. */
  touchKeys(lastUsed: ReadonlyMap<string, number>): Promise<void>;
  /** Appends entries in one transaction. */
  appendAudit(rows: readonly AuditRow[]): Promise<void>;
  /** Newest first, with each entry's `seq` (the cursor). */
  listAudit(q: AuditQuery): Promise<(AuditRow & { seq: number })[]>;
}
