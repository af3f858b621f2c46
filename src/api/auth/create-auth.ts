/** @module api/auth/create-auth — the API's credentials, built by the composition root: key ring, audit log, gate, and the admin key of the first boot. */
import type { Logger } from '../../common/logger.ts';
import type { SharedWrites } from '../../common/shared-writes.ts';
import type { AuthStore } from '../../store/types.ts';
import { createAuditLog } from './audit-log.ts';
import { type BootstrapResult, bootstrapAdminKey } from './bootstrap.ts';
import { type Gate, createGate } from './gate.ts';
import { createKeyRing } from './key-ring.ts';
import type { AuthSettings, RateLimit } from './types.ts';

export interface AuthOptions {
  /** Keys and audit entries. */
  readonly store: AuthStore;
  readonly settings: AuthSettings;
  /** Where a generated admin key is written (`admin.key`, mode 0600). */
  readonly dataDir: string;
  /** `ACTORFLOW_ADMIN_KEY`. */
  readonly adminKey?: string | undefined;
  /** Shows a generated admin key once (console, not the structured log). */
  readonly print: (text: string) => void;
  readonly logger: Logger;
  /** A tenant's request rate over all its credentials (tenants' `limits.rps`). */
  readonly tenantRate?: ((tenant: string) => RateLimit | undefined) | undefined;
  /** Where writes of keys are applied (cluster mode: on every node). @default localWrites */
  readonly writes?: SharedWrites | undefined;
}

export interface Auth {
  /** Authentication, scopes, rate limits, CORS and audit of every request; `close()` writes what is pending. */
  readonly gate: Gate;
  /** What the admin-key bootstrap did. */
  readonly bootstrap: BootstrapResult;
}

/** Loads the keys, then makes sure an admin key exists (unless authentication is off). Throws on bad JWT settings before any key is written. */
export async function createAuth(o: AuthOptions): Promise<Auth> {
  const keys = await createKeyRing(o.store, o.logger, o.writes);
  const audit = createAuditLog(o.store, o.logger);
  const gate = createGate({ settings: o.settings, keys, audit, logger: o.logger, tenantRate: o.tenantRate });
  if (gate.disabled) {
    o.logger.warn('authentication is OFF (--no-auth / ACTORFLOW_NO_AUTH): every request is admin of tenant "default"; development only');
    return { gate, bootstrap: { kind: 'existing' } };
  }
  return { gate, bootstrap: await bootstrapAdminKey({ keys, dataDir: o.dataDir, adminKey: o.adminKey, print: o.print }) };
}
