/** @module tests/support/http — a tiny fetch client for integration tests (Node 20's global fetch). */

export interface ApiResponse<T = any> {
  readonly status: number;
  readonly headers: Headers;
  /** Parsed JSON for JSON/problem answers, else the text. */
  readonly body: T;
  readonly text: string;
  /** The content-type header (`''` when absent). */
  readonly contentType: string;
}

export interface RequestOptions {
  /** Sent as-is instead of a JSON-encoded body. */
  readonly rawBody?: string | Uint8Array;
  /** Extra headers; `content-type` defaults to `application/json` when a body is sent. */
  readonly headers?: Readonly<Record<string, string>>;
  /** Query parameters appended to the path. */
  readonly query?: Readonly<Record<string, string | number>>;
}

export type Method = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE' | 'HEAD' | 'OPTIONS';

/** One request; `path` is absolute (`/api/v1/...`, `/health`). */
export async function request(origin: string, method: Method, path: string, body?: unknown, opts: RequestOptions = {}): Promise<ApiResponse> {
  const headers: Record<string, string> = { ...opts.headers };
  let payload: string | Uint8Array | undefined;
  if (opts.rawBody !== undefined) payload = opts.rawBody;
  else if (body !== undefined) payload = JSON.stringify(body);
  if (payload !== undefined && !Object.keys(headers).some((k) => k.toLowerCase() === 'content-type')) {
    headers['content-type'] = 'application/json';
  }
  let url = origin + path;
  if (opts.query !== undefined) {
    const qs = new URLSearchParams(Object.entries(opts.query).map(([k, v]): [string, string] => [k, String(v)])).toString();
    url += (path.includes('?') ? '&' : '?') + qs;
  }
  const res = await fetch(url, { method, headers, ...(payload === undefined ? {} : { body: payload }) });
  const text = await res.text();
  const contentType = res.headers.get('content-type') ?? '';
  let parsed: unknown = text;
  if (contentType.includes('json') && text !== '') parsed = JSON.parse(text);
  return { status: res.status, headers: res.headers, body: parsed, text, contentType };
}

/** A client rooted at `/api/v1` of a server origin: `api(url).post('/executions', { workflow })`; `headers` go with every request. */
export function api(origin: string, base = '/api/v1', headers: Readonly<Record<string, string>> = {}) {
  const at = (path: string) => base + path;
  const withHeaders = (opts: RequestOptions | undefined): RequestOptions => ({ ...opts, headers: { ...headers, ...opts?.headers } });
  return {
    get: (path: string, opts?: RequestOptions) => request(origin, 'GET', at(path), undefined, withHeaders(opts)),
    post: (path: string, body?: unknown, opts?: RequestOptions) => request(origin, 'POST', at(path), body, withHeaders(opts)),
    patch: (path: string, body?: unknown, opts?: RequestOptions) => request(origin, 'PATCH', at(path), body, withHeaders(opts)),
    put: (path: string, body?: unknown, opts?: RequestOptions) => request(origin, 'PUT', at(path), body, withHeaders(opts)),
    del: (path: string, opts?: RequestOptions) => request(origin, 'DELETE', at(path), undefined, withHeaders(opts)),
    request: (method: Method, path: string, body?: unknown, opts?: RequestOptions) => request(origin, method, at(path), body, withHeaders(opts)),
  };
}

/** A client of `/api/v1` that sends `authorization: Bearer <key>` with every request. */
export const withKey = (origin: string, key: string) => api(origin, '/api/v1', { authorization: `Bearer ${key}` });

export type Api = ReturnType<typeof api>;

/** Creates tenant `slug` through `admin` (an admin of tenant `default`) unless it exists. */
export async function ensureTenant(admin: Api, slug: string): Promise<void> {
  const res = await admin.post('/tenants', { slug, name: slug });
  if (res.status !== 201 && res.status !== 409) throw new Error(`POST /tenants: ${res.status} ${res.text}`);
}

/** Creates an API key through `admin` (an admin-scoped client), its tenant first when named, and returns its secret. */
export async function createKey(admin: Api, scopes: readonly string[], tenant?: string): Promise<string> {
  if (tenant !== undefined) await ensureTenant(admin, tenant);
  const res = await admin.post('/api-keys', { name: `k-${scopes.join('-')}`, scopes, ...(tenant === undefined ? {} : { tenant }) });
  if (res.status !== 201) throw new Error(`POST /api-keys: ${res.status} ${res.text}`);
  return res.body.key as string;
}
