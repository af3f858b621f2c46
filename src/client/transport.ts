/** @module client/transport — one JSON request against the API; non-2xx answers throw ActorflowApiError. */
import { ActorflowApiError, type Problem } from './errors.ts';
import type { Query } from './types.ts';

export type FetchLike = typeof globalThis.fetch;

export interface TransportOptions {
  /** Origin of the server, e.g. `http://127.0.0.1:8080` (the `/api/v1` base path is added). */
  readonly url: string;
  /** API key or JWT, sent as `authorization: Bearer`. */
  readonly key?: string;
  readonly fetch?: FetchLike;
}

export interface CallOptions {
  readonly query?: Query;
  readonly body?: unknown;
  /** Raw body text with its content type (e.g. YAML). */
  readonly raw?: { readonly text: string; readonly contentType: string };
  readonly headers?: Readonly<Record<string, string>>;
  /** Answer the body as text (non-JSON routes like Mermaid diagrams). */
  readonly text?: boolean;
  readonly signal?: AbortSignal;
}

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export const BASE_PATH = '/api/v1';

/** Builds `origin + /api/v1 + path + ?query`. */
export function buildUrl(origin: string, path: string, query?: Query): string {
  const u = new URL(BASE_PATH + path, origin.endsWith('/') ? origin : `${origin}/`);
  for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) u.searchParams.set(k, String(v));
  return u.toString();
}

/** Path segment escaping. */
export const seg = (s: string): string => encodeURIComponent(s);

export class Transport {
  readonly origin: string;
  readonly key: string | undefined;
  readonly fetch: FetchLike;

  constructor(opts: TransportOptions) {
    this.origin = opts.url.replace(/\/+$/, '');
    this.key = opts.key;
    this.fetch = opts.fetch ?? globalThis.fetch.bind(globalThis);
  }

  authHeaders(): Record<string, string> {
    return this.key === undefined ? {} : { authorization: `Bearer ${this.key}` };
  }

  /** Sends a request; raises ActorflowApiError on non-2xx or network failure. */
  async call<T>(method: Method, path: string, opts: CallOptions = {}): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json', ...this.authHeaders(), ...opts.headers };
    let body: string | undefined;
    if (opts.raw !== undefined) {
      body = opts.raw.text;
      headers['content-type'] = opts.raw.contentType;
    } else if (opts.body !== undefined) {
      body = JSON.stringify(opts.body);
      headers['content-type'] = 'application/json';
    }
    let res: Response;
    try {
      res = await this.fetch(buildUrl(this.origin, path, opts.query), {
        method,
        headers,
        ...(body === undefined ? {} : { body }),
        ...(opts.signal === undefined ? {} : { signal: opts.signal }),
      });
    } catch (err) {
      const cause = err instanceof Error && err.cause instanceof Error ? `: ${err.cause.message}` : '';
      throw new ActorflowApiError(0, null, `cannot reach ${this.origin}${cause || (err instanceof Error ? `: ${err.message}` : '')}`);
    }
    const text = await res.text();
    if (!res.ok) throw new ActorflowApiError(res.status, parseProblem(text), `${method} ${path}: HTTP ${res.status}`, res.headers.get('x-request-id'));
    if (opts.text === true) return text as T;
    if (text === '') return undefined as T;
    return JSON.parse(text) as T;
  }
}

function parseProblem(text: string): Problem | null {
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'object' && v !== null ? (v as Problem) : null;
  } catch {
    return null;
  }
}
