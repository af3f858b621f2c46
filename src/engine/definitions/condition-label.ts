/** @module engine/definitions/condition-label — a choice condition as a short one-line text, for diagram edge labels. */
import type { Condition } from '../../common/flow.ts';

/** Longer labels are cut with `…`: a diagram edge is not the place for a whole JSON document. */
const MAX_LABEL = 60;

/** `$.input.tier == "gold"`, `$.input.n >= 10 and $.input.n < 20`, `not ($.x exists)`, `(a or b) and c`. */
export function conditionLabel(cond: Condition): string {
  const text = describe(cond, false);
  return text.length <= MAX_LABEL ? text : `${text.slice(0, MAX_LABEL - 1)}…`;
}

function describe(cond: Condition, nested: boolean): string {
  if ('all' in cond) return group(cond.all.map((c) => describe(c, true)), ' and ', nested);
  if ('any' in cond) return group(cond.any.map((c) => describe(c, true)), ' or ', nested);
  if ('not' in cond) return `not (${describe(cond.not, false)})`;
  const p = cond.path;
  const parts: string[] = [];
  if ('equals' in cond) parts.push(`${p} == ${value(cond.equals)}`);
  if ('notEquals' in cond) parts.push(`${p} != ${value(cond.notEquals)}`);
  if (cond.exists !== undefined) parts.push(cond.exists ? `${p} exists` : `${p} missing`);
  if (cond.gt !== undefined) parts.push(`${p} > ${cond.gt}`);
  if (cond.gte !== undefined) parts.push(`${p} >= ${cond.gte}`);
  if (cond.lt !== undefined) parts.push(`${p} < ${cond.lt}`);
  if (cond.lte !== undefined) parts.push(`${p} <= ${cond.lte}`);
  if (cond.in !== undefined) parts.push(`${p} in ${value(cond.in)}`);
  // A bare path (code-built flows) tests presence, as evaluateCondition does.
  return parts.length === 0 ? `${p} exists` : group(parts, ' and ', nested);
}

function group(parts: readonly string[], joiner: string, nested: boolean): string {
  const text = parts.join(joiner);
  return nested && parts.length > 1 ? `(${text})` : text;
}

function value(v: unknown): string {
  return JSON.stringify(v ?? null);
}
