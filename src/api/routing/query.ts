/** @module api/routing/query — a raw query string as the object a route's query schema validates. */
import type { Issue } from '../../common/errors.ts';
import { pointerToken } from '../../common/json.ts';
import type { CompiledRoute } from './validate.ts';

/**
 * Parses a raw query string into an object for the route's query schema: `label.<k>` pairs
 * into `labels`; array-typed keys gathered from every occurrence, each split on commas (OpenAPI
 * `form` style with `explode: true`, and the comma list of `explode: false`); other keys
 * repeated are reported as issues.
 * The object has no prototype so a `__proto__` key is just data.
 */
export function parseQuery(raw: string, route: CompiledRoute, issues: Issue[]): Record<string, unknown> {
  const out = Object.create(null) as Record<string, unknown>;
  if (raw === '') return out;
  let labels: Record<string, string> | undefined;
  for (const [key, value] of new URLSearchParams(raw)) {
    if (route.labelQuery && key.startsWith('label.')) {
      labels ??= Object.create(null) as Record<string, string>;
      const label = key.slice(6);
      if (Object.hasOwn(labels, label)) issues.push({ path: `/query/${pointerToken(key)}`, message: 'must not be repeated' });
      labels[label] = value;
      continue;
    }
    if (route.arrayQueryKeys.has(key)) {
      const items = out[key] as string[] | undefined;
      if (items === undefined) out[key] = value.split(',');
      else items.push(...value.split(','));
      continue;
    }
    if (Object.hasOwn(out, key)) {
      issues.push({ path: `/query/${pointerToken(key)}`, message: 'must not be repeated' });
      continue;
    }
    out[key] = value;
  }
  if (labels !== undefined) out['labels'] = labels;
  return out;
}
