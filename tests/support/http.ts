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

/** A client rooted at `/api/v1` of a server origin: `api(url).post('/executions', { workflow })`. */
export function api(origin: string, base = '/api/v1') {
  const at = (path: string) => base + path;
  return {
    get: (path: string, opts?: RequestOptions) => request(origin, 'GET', at(path), undefined, opts),
    post: (path: string, body?: unknown, opts?: RequestOptions) => request(origin, 'POST', at(path), body, opts),
    patch: (path: string, body?: unknown, opts?: RequestOptions) => request(origin, 'PATCH', at(path), body, opts),
    put: (path: string, body?: unknown, opts?: RequestOptions) => request(origin, 'PUT', at(path), body, opts),
    del: (path: string, opts?: RequestOptions) => request(origin, 'DELETE', at(path), undefined, opts),
    request: (method: Method, path: string, body?: unknown, opts?: RequestOptions) => request(origin, method, at(path), body, opts),
  };
}

export type Api = ReturnType<typeof api>;
