/** @module engine/definitions/diagram — Mermaid `stateDiagram-v2` text for a flow document, optionally coloured by an execution's progress. */
import type { FlowDocument, Step } from '../../common/flow.ts';
import { stepEdges, type Edge, type EdgeKind } from '../flow/validate-flow.ts';
import { conditionLabel } from './condition-label.ts';

export interface VisitedStates {
  readonly done: readonly string[];
  readonly active: readonly string[];
  readonly failed: readonly string[];
}

// Mermaid's lexer treats ids starting with these words (any case) as keywords.
const RESERVED = /^(?:default|state|note|class|style|scale|click|href|hide|acc|end|direction)/iu;

/** Labels of edges that carry no condition; a choice branch is labelled with its condition. */
const EDGE_LABEL: Record<Exclude<EdgeKind, 'when'>, string> = { next: '', default: ' : otherwise', fallback: ' : on error' };

/**
 * Step id → Mermaid state id. Mermaid ids cannot contain `-`, so it becomes `_`; keyword-like ids get
 * an `s_` prefix; a clash (`a-b` vs `a_b`) gets a numeric suffix. Assigned in document order, so the
 * same document always yields the same ids.
 */
function stateIds(doc: FlowDocument): Map<string, string> {
  const ids = new Map<string, string>();
  const taken = new Set<string>();
  const visit = (steps: readonly Step[]): void => {
    for (const step of steps) {
      if (!ids.has(step.id)) {
        let base = step.id.replace(/-/gu, '_');
        if (RESERVED.test(base)) base = `s_${base}`;
        let candidate = base;
        for (let n = 2; taken.has(candidate); n++) candidate = `${base}_${n}`;
        taken.add(candidate);
        ids.set(step.id, candidate);
      }
      if (step.type === 'parallel') step.branches.forEach(visit);
    }
  };
  visit(doc.steps);
  return ids;
}

/** User text goes inside `"…"` labels: keep characters Mermaid shows literally, and no spaces (keywords). */
function safe(s: string): string {
  return s.replace(/[^A-Za-z0-9_.:/@-]/gu, '_');
}

/**
 * A transition label is the rest of its line: Mermaid ends it at a newline, `;` or `::`, and its HTML labels
 * would read `<b`, `</`, `<!` as markup (a look-alike `‹` instead). Spaces, quotes and `a < 5` are fine there.
 */
function edgeText(s: string): string {
  return s
    .replace(/[\r\n\t]+/gu, ' ')
    .replace(/;/gu, ',')
    .replace(/:(?=:)/gu, ': ')
    .replace(/<(?=[A-Za-z/!?])/gu, '‹');
}

function edgeLabel(step: Step, edge: Edge): string {
  if (edge.kind !== 'when') return EDGE_LABEL[edge.kind];
  const branch = step.type === 'choice' && edge.branch !== undefined ? step.when[edge.branch] : undefined;
  return branch === undefined ? '' : ` : ${edgeText(conditionLabel(branch.if))}`;
}

function describe(step: Step): string {
  switch (step.type) {
    case 'task':
      return `${step.id} (task: ${safe(step.agent)})`;
    case 'wait':
      return `${step.id} (wait: ${safe(step.signal)})`;
    case 'sleep':
      return step.ms !== undefined ? `${step.id} (sleep: ${step.ms} ms)` : `${step.id} (sleep until)`;
    case 'choice':
      return `${step.id} (choice)`;
    case 'parallel':
      return `${step.id} (parallel)`;
    case 'workflow':
      return `${step.id} (workflow: ${safe(step.workflow)})`;
  }
}

function renderList(steps: readonly Step[], ids: Map<string, string>, indent: string, out: string[]): void {
  const first = steps[0];
  if (first === undefined) return;
  const local = new Set(steps.map((s) => s.id));
  for (const step of steps) {
    const sid = ids.get(step.id) ?? step.id;
    if (step.type === 'parallel') {
      // Composite states take no extra description in Mermaid; each branch is a concurrent region.
      out.push(`${indent}state ${sid} {`);
      step.branches.forEach((branch, k) => {
        if (k > 0) out.push(`${indent}  --`);
        renderList(branch, ids, `${indent}  `, out);
      });
      out.push(`${indent}}`);
    } else {
      out.push(`${indent}state "${describe(step)}" as ${sid}`);
    }
  }
  out.push(`${indent}[*] --> ${ids.get(first.id) ?? first.id}`);
  const seen = new Set<string>();
  steps.forEach((step, i) => {
    const from = ids.get(step.id) ?? step.id;
    for (const edge of stepEdges(steps, i)) {
      // A target outside this list is an invalid document; draw nothing rather than a wrong edge.
      if (edge.to !== null && !local.has(edge.to)) continue;
      const to = edge.to === null ? '[*]' : (ids.get(edge.to) ?? edge.to);
      const line = `${indent}${from} --> ${to}${edgeLabel(step, edge)}`;
      if (!seen.has(line)) {
        seen.add(line);
        out.push(line);
      }
    }
  });
}

function render(doc: FlowDocument, ids: Map<string, string>): string[] {
  const out = ['stateDiagram-v2'];
  renderList(doc.steps, ids, '  ', out);
  return out;
}

/** The definition's control flow: list order, `next`, `end`, choice branches, fallbacks, parallel regions. */
export function flowToMermaid(doc: FlowDocument): string {
  return `${render(doc, stateIds(doc)).join('\n')}\n`;
}

/**
 * The definition's diagram coloured by progress. Takes step ids (not Mermaid ids); ids not in the
 * diagram (compensations, unknown) are ignored. A step in several lists shows its most pressing
 * state: active over failed over done.
 */
export function executionMermaid(doc: FlowDocument, visited: VisitedStates): string {
  const ids = stateIds(doc);
  const out = render(doc, ids);
  out.push('  classDef done fill:#d4edda', '  classDef active fill:#cce5ff', '  classDef failed fill:#f8d7da');
  const kinds = new Map<string, 'done' | 'active' | 'failed'>();
  for (const [kind, list] of [
    ['done', visited.done],
    ['failed', visited.failed],
    ['active', visited.active],
  ] as const) {
    for (const stepId of list) {
      const sid = ids.get(stepId);
      if (sid !== undefined) kinds.set(sid, kind); // later lists win: done < failed < active
    }
  }
  for (const [sid, kind] of kinds) out.push(`  class ${sid} ${kind}`);
  return `${out.join('\n')}\n`;
}
