/** @module api/auth/types — scopes, principals and the auth settings of the API server. */

/** Scopes nest: `admin` ⊃ `write` ⊃ `read`. */
export const Scope = {
  read: 'read',
  write: 'write',
  admin: 'admin',
} as const;
export type Scope = (typeof Scope)[keyof typeof Scope];

/** What a route needs: a scope, or nothing at all (health, readiness, docs). */
export type RouteAuth = Scope | 'none';

/** A token bucket: `rps` tokens per second, at most `burst` saved up. */
export interface RateLimit {
  readonly rps: number;
  readonly burst: number;
}

/** Who is asking, once a credential is verified. The engine only ever sees `tenant`. */
export interface Principal {
  /** `key_…` for API keys, `jwt:<sub>` for tokens, null with auth off. */
  readonly keyId: string | null;
  readonly tenant: string;
  /** The widest scope granted. */
  readonly scope: Scope;
  /** Bucket key of the rate limiter and the WebSocket connection counter. */
  readonly limiterId: string;
  /** Own limit (API keys created with `rateLimit`); undefined = the server default. */
  readonly rateLimit: RateLimit | undefined;
}

/** The raw credential of a request, read synchronously from headers or `?token=`. */
export interface Credential {
  readonly token: string;
  /** Where it came from (kept out of logs, like the token). */
  readonly from: 'authorization' | 'x-api-key' | 'query';
}

/** JWT verification settings (HS256 secret, or a JWKS file/URL). */
export interface JwtSettings {
  /** HS256 shared secret. */
  readonly secret?: string | undefined;
  /** JWKS: an `http(s)://` URL or a file path. */
  readonly jwks?: string | undefined;
  readonly issuer?: string | undefined;
  readonly audience?: string | undefined;
}

/** Auth settings of the API server; every field has a default. */
export interface AuthSettings {
  /** Development only: every request is admin of tenant `default`. @default false */
  readonly disabled?: boolean;
  /** Default per-credential limit; null turns the default off (per-key limits still apply). @default { rps: 2000, burst: 4000 } */
  readonly rateLimit?: RateLimit | null;
  readonly jwt?: JwtSettings | undefined;
  /** Allowed CORS origins (`*` = any); empty = no CORS headers. @default [] */
  readonly corsOrigins?: readonly string[];
  /** Open WebSockets per credential. @default 1000 */
  readonly maxSocketsPerCredential?: number;
}

export const DEFAULT_TENANT = 'default';
export const DEFAULT_RATE_LIMIT: RateLimit = { rps: 2000, burst: 4000 };
export const DEFAULT_MAX_SOCKETS_PER_CREDENTIAL = 1000;
