/** @module api/auth/gate — authentication, scope check and rate limit of every request, before validation and handlers. */
import type { HttpRequest } from 'uWebSockets.js';
import { ErrorCode } from '../../common/errors.ts';
import type { Logger } from '../../common/logger.ts';
import type { Exchange } from '../http/exchange.ts';
import { writeProblem } from '../http/reply.ts';
import { problemFor } from '../http/problem.ts';
import type { AuditLog } from './audit-log.ts';
import { type Cors, createCors } from './cors.ts';
import { JwtRejected, type JwtVerifier, createJwtVerifier, looksLikeJwt } from './jwt-verifier.ts';
import type { KeyRing } from './key-ring.ts';
import { type RateLimiter, type Refusal, createRateLimiter } from './rate-limiter.ts';
import { scopeAllows } from './scopes.ts';
import {
  type AuthSettings,
  type Credential,
  DEFAULT_MAX_SOCKETS_PER_CREDENTIAL,
  DEFAULT_RATE_LIMIT,
  DEFAULT_TENANT,
  type Principal,
  type RateLimit,
  Scope,
} from './types.ts';

/** With auth off every request is this principal. */
export const ANONYMOUS_ADMIN: Principal = { keyId: null, tenant: DEFAULT_TENANT, scope: Scope.admin, limiterId: 'anonymous', rateLimit: undefined };

const BEARER = /^bearer\s+(\S+)\s*$/i;
const UNAUTHORIZED_HEADERS = { 'www-authenticate': 'Bearer realm="actorflow"' } as const;
/** Credentials longer than this are refused unread. */
const MAX_CREDENTIAL_CHARS = 8192;
const SWEEP_MS = 60_000;

export type Admission = Principal | undefined | Promise<Principal | undefined>;

export interface Gate {
  readonly disabled: boolean;
  readonly cors: Cors;
  readonly keys: KeyRing;
  readonly audit: AuditLog;
  /**
   * The credential of a request (synchronous: call inside the uWS handler). `query` is the raw
   * query string when the route accepts `?token=`. A present but unusable header gives an
   * empty token, which fails verification (401) rather than counting as anonymous.
   */
  credentialOf(req: HttpRequest, query: string | undefined): Credential | undefined;
  /**
   * Verifies the credential, then the scope (`needed`), then the rate limit. On failure writes
   * 401, 403 or 429 to `ex` and yields undefined. Synchronous for API keys and cached JWTs.
   * `authenticated` runs once the caller is known, before the scope check (audit hook).
   */
  admit(ex: Exchange, cred: Credential | undefined, needed: Scope, authenticated?: (p: Principal) => void): Admission;
  /** Counts an open WebSocket of a principal; false when it already holds the maximum. */
  socketOpened(p: Principal): boolean;
  socketClosed(p: Principal): void;
  close(): Promise<void>;
}

export interface GateDeps {
  readonly settings: AuthSettings;
  readonly keys: KeyRing;
  readonly audit: AuditLog;
  readonly logger: Logger;
  /** A tenant's request rate over all its credentials (its `limits.rps`); undefined = none. Read on every request: keep it a map lookup. */
  readonly tenantRate?: ((tenant: string) => RateLimit | undefined) | undefined;
}

/** Bucket ids of tenants in the rate limiter (credential ids are `key_…`, `jwt:…` or `anonymous`). */
const TENANT_BUCKET = 'tenant:';

function unauthorized(ex: Exchange, detail: string): undefined {
  writeProblem(ex, problemFor(ErrorCode.unauthorized, detail), { headers: UNAUTHORIZED_HEADERS });
  return undefined;
}

function tooMany(ex: Exchange, refused: Refusal, detail: string): undefined {
  writeProblem(ex, problemFor(ErrorCode.rateLimited, detail), {
    headers: {
      'retry-after': String(refused.resetS),
      'ratelimit-limit': String(refused.limit),
      'ratelimit-remaining': '0',
      'ratelimit-reset': String(refused.resetS),
    },
  });
  return undefined;
}

/** Builds the gate; throws on bad JWT settings (at startup). */
export function createGate(d: GateDeps): Gate {
  const s = d.settings;
  const disabled = s.disabled === true;
  const defaultLimit: RateLimit | undefined = s.rateLimit === null ? undefined : (s.rateLimit ?? DEFAULT_RATE_LIMIT);
  const maxSockets = s.maxSocketsPerCredential ?? DEFAULT_MAX_SOCKETS_PER_CREDENTIAL;
  const jwt: JwtVerifier | undefined = s.jwt !== undefined && (s.jwt.secret !== undefined || s.jwt.jwks !== undefined) ? createJwtVerifier(s.jwt) : undefined;
  const limiter: RateLimiter = createRateLimiter();
  const sockets = new Map<string, number>();
  const sweep = setInterval(() => limiter.sweep(Date.now()), SWEEP_MS);
  sweep.unref();

  /** Scope and rate limit of a known principal. */
  const authorize = (ex: Exchange, p: Principal, needed: Scope, authenticated?: (p: Principal) => void): Principal | undefined => {
    authenticated?.(p);
    if (!scopeAllows(p.scope, needed)) {
      writeProblem(ex, problemFor(ErrorCode.forbidden, `This call needs the "${needed}" scope; the credential has "${p.scope}".`));
      return undefined;
    }
    if (disabled) return p;
    const now = Date.now();
    // The tenant's bucket first: it holds over all the tenant's keys and tokens together.
    const shared = d.tenantRate?.(p.tenant);
    if (shared !== undefined) {
      const refused = limiter.take(TENANT_BUCKET + p.tenant, shared, now);
      if (refused !== undefined) return tooMany(ex, refused, `Tenant "${p.tenant}" is limited to ${shared.rps} requests/s over all its credentials; retry later.`);
    }
    const limit = p.rateLimit ?? defaultLimit;
    if (limit === undefined) return p;
    const refused = limiter.take(p.limiterId, limit, now);
    if (refused === undefined) return p;
    return tooMany(ex, refused, `Rate limit of ${limit.rps} requests/s (burst ${limit.burst}) exceeded; retry later.`);
  };

  return {
    disabled,
    cors: createCors(s.corsOrigins ?? []),
    keys: d.keys,
    audit: d.audit,
    credentialOf: (req, query) => {
      if (disabled) return undefined;
      const authorization = req.getHeader('authorization');
      if (authorization !== '') {
        const m = BEARER.exec(authorization);
        return { token: m?.[1] ?? '', from: 'authorization' };
      }
      const apiKey = req.getHeader('x-api-key');
      if (apiKey !== '') return { token: apiKey.trim(), from: 'x-api-key' };
      if (query !== undefined && query.includes('token=')) {
        const token = new URLSearchParams(query).get('token');
        if (token !== null) return { token, from: 'query' };
      }
      return undefined;
    },
    admit: (ex, cred, needed, authenticated) => {
      if (disabled) return authorize(ex, ANONYMOUS_ADMIN, needed, authenticated);
      if (cred === undefined) return unauthorized(ex, 'A credential is required: `authorization: Bearer <key or JWT>` or `x-api-key`.');
      const token = cred.token;
      if (token === '' || token.length > MAX_CREDENTIAL_CHARS) return unauthorized(ex, 'The credential is malformed.');
      const now = Date.now();
      if (jwt !== undefined && looksLikeJwt(token)) {
        const hit = jwt.cached(token, now);
        if (hit !== undefined) return authorize(ex, hit, needed, authenticated);
        return jwt.verify(token).then(
          (p) => (ex.open ? authorize(ex, p, needed, authenticated) : undefined),
          (err: unknown) => unauthorized(ex, `Invalid token: ${err instanceof JwtRejected ? err.reason : 'the token is invalid'}.`),
        );
      }
      const p = d.keys.lookup(token, now);
      if (p === undefined) return unauthorized(ex, 'The credential is not valid (unknown, revoked or malformed).');
      return authorize(ex, p, needed, authenticated);
    },
    socketOpened: (p) => {
      const n = sockets.get(p.limiterId) ?? 0;
      if (!disabled && n >= maxSockets) return false;
      sockets.set(p.limiterId, n + 1);
      return true;
    },
    socketClosed: (p) => {
      const n = (sockets.get(p.limiterId) ?? 1) - 1;
      if (n <= 0) sockets.delete(p.limiterId);
      else sockets.set(p.limiterId, n);
    },
    close: async () => {
      clearInterval(sweep);
      await d.audit.close();
      await d.keys.close();
    },
  };
}
