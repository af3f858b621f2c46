/** @module api/http/media — the media types the API reads and writes, and content-type parsing. */

export const MEDIA_JSON = 'application/json';
export const MEDIA_PROBLEM = 'application/problem+json';
export const MEDIA_MERMAID = 'text/vnd.mermaid; charset=utf-8';
export const YAML_MEDIA_TYPES: ReadonlySet<string> = new Set(['application/yaml', 'application/x-yaml', 'text/yaml']);
export const MEDIA_HTML = 'text/html; charset=utf-8';
export const MEDIA_EVENT_STREAM = 'text/event-stream';
/** Prometheus text exposition format 0.0.4 (what prom-client writes). */
export const MEDIA_PROMETHEUS = 'text/plain; version=0.0.4; charset=utf-8';
/** The media type of GraphQL-over-HTTP answers; a client that accepts it gets its status rules. */
export const MEDIA_GRAPHQL_RESPONSE = 'application/graphql-response+json';
/** A request body that is the query document itself (what GraphiQL-era clients send). */
export const MEDIA_GRAPHQL = 'application/graphql';

/** The media type of a content-type header, lower case, without parameters; `''` when absent. */
export function mediaTypeOf(contentType: string): { type: string; charsetOk: boolean } {
  if (contentType === '') return { type: '', charsetOk: true };
  const semi = contentType.indexOf(';');
  const type = (semi === -1 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
  if (semi === -1) return { type, charsetOk: true };
  const m = /charset\s*=\s*"?([^";\s]+)/i.exec(contentType.slice(semi + 1));
  const charset = m?.[1]?.toLowerCase();
  return { type, charsetOk: charset === undefined || charset === 'utf-8' || charset === 'utf8' };
}

/** `application/json` or a `+json` structured suffix (e.g. `application/merge-patch+json`). */
export function isJsonMedia(type: string): boolean {
  return type === MEDIA_JSON || (type.startsWith('application/') && type.endsWith('+json'));
}
