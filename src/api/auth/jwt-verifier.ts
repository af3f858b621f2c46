/** @module api/auth/jwt-verifier — JWT credentials with `jose`: HS256 secret or JWKS, `tenant` and `scope` claims, a short result cache. */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { type JWTVerifyGetKey, type JWTVerifyOptions, createLocalJWKSet, createRemoteJWKSet, errors, jwtVerify } from 'jose';
import { widestScope } from './scopes.ts';
import type { JwtSettings, Principal } from './types.ts';

/** Verified tokens are remembered this long at most (and never past their `exp`). */
const CACHE_TTL_MS = 30_000;
/** Cache entries at most; the cache is cleared when full. */
const CACHE_MAX = 10_000;
/** Tokens longer than this are refused unread. */
const MAX_TOKEN_CHARS = 8192;

/** A failed verification: a client-safe reason (never the token or the secret). */
export class JwtRejected extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'JwtRejected';
  }
}

export interface JwtVerifier {
  /** A cached principal for this token, or undefined (then call `verify`). */
  cached(token: string, now: number): Principal | undefined;
  /** Verifies signature, `exp`/`nbf`/`iss`/`aud` and the claims; rejects with `JwtRejected`. */
  verify(token: string): Promise<Principal>;
}

/** True when a bearer token has the shape of a JWS compact serialization. */
export function looksLikeJwt(token: string): boolean {
  return token.startsWith('eyJ') && token.split('.').length === 3;
}

function keyOf(s: JwtSettings): Uint8Array | JWTVerifyGetKey {
  if (s.secret !== undefined) return new TextEncoder().encode(s.secret);
  const jwks = s.jwks ?? '';
  if (/^https?:\/\//.test(jwks)) return createRemoteJWKSet(new URL(jwks));
  return createLocalJWKSet(JSON.parse(readFileSync(jwks, 'utf8')) as Parameters<typeof createLocalJWKSet>[0]);
}

function reasonOf(err: unknown): string {
  if (err instanceof JwtRejected) return err.reason;
  if (err instanceof errors.JWTExpired) return 'the token has expired';
  if (err instanceof errors.JWTClaimValidationFailed) return `the token's "${err.claim}" claim is not accepted`;
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'the token signature is invalid';
  if (err instanceof errors.JOSEAlgNotAllowed) return 'the token algorithm is not accepted';
  if (err instanceof errors.JWKSNoMatchingKey) return 'no key matches the token';
  return 'the token is invalid';
}

/**
 * Builds the verifier; throws at startup when neither a secret nor a JWKS is set, or the JWKS
 * file is unreadable. Principals: `tenant` claim (required, string), `scope` claim (space
 * separated string or array; the widest known scope counts), limiter id `jwt:<tenant>:<sub>`.
 * @example
 * const v = createJwtVerifier({ secret: 's3cret', audience: 'actorflow' });
 * const who = v.cached(token, Date.now()) ?? (await v.verify(token));
 */
export function createJwtVerifier(s: JwtSettings): JwtVerifier {
  if (s.secret === undefined && s.jwks === undefined) throw new Error('JWT settings need a secret or a JWKS');
  const key = keyOf(s);
  const options: JWTVerifyOptions = {
    algorithms: s.secret !== undefined ? ['HS256'] : ['RS256', 'RS384', 'RS512', 'PS256', 'ES256', 'ES384', 'EdDSA'],
    ...(s.issuer === undefined ? {} : { issuer: s.issuer }),
    ...(s.audience === undefined ? {} : { audience: s.audience }),
    clockTolerance: 5,
  };
  const cache = new Map<string, { principal: Principal; until: number }>();
  return {
    cached: (token, now) => {
      const hit = cache.get(token);
      if (hit === undefined) return undefined;
      if (hit.until > now) return hit.principal;
      cache.delete(token);
      return undefined;
    },
    verify: async (token) => {
      try {
        if (token.length > MAX_TOKEN_CHARS) throw new JwtRejected('the token is too long');
        const { payload } =
          typeof key === 'function' ? await jwtVerify(token, key, options) : await jwtVerify(token, key, options);
        const tenant = payload['tenant'];
        if (typeof tenant !== 'string' || tenant.length === 0 || tenant.length > 200) throw new JwtRejected('the token has no valid "tenant" claim');
        const raw = payload['scope'];
        const names = typeof raw === 'string' ? raw.split(' ') : Array.isArray(raw) ? (raw as unknown[]) : [];
        const scope = widestScope(names);
        if (scope === undefined) throw new JwtRejected('the token has no known "scope"');
        const sub = typeof payload.sub === 'string' ? payload.sub : createHash('sha256').update(token).digest('hex').slice(0, 16);
        const principal: Principal = { keyId: `jwt:${sub}`, tenant, scope, limiterId: `jwt:${tenant}:${sub}`, rateLimit: undefined };
        const now = Date.now();
        const until = Math.min(now + CACHE_TTL_MS, typeof payload.exp === 'number' ? payload.exp * 1000 : Infinity);
        if (cache.size >= CACHE_MAX) cache.clear();
        cache.set(token, { principal, until });
        return principal;
      } catch (err) {
        throw new JwtRejected(reasonOf(err));
      }
    },
  };
}
