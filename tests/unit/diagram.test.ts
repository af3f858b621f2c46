/** @module tests/unit/diagram — Mermaid rendering of flow documents and execution progress. */
import { describe, it, expect } from 'vitest';
import { conditionLabel } from '../../src/engine/definitions/condition-label.ts';
import { executionMermaid, flowToMermaid } from '../../src/engine/definitions/diagram.ts';
import type { FlowDocument } from '../../src/common/flow.ts';

const doc: FlowDocument = {
  name: 'order-fulfilment',
  steps: [
    { id: 'validate', type: 'task', agent: 'http', onError: { fallback: 'rejected' } },
    { id: 'approve', type: 'wait', signal: 'approval' },
    {
      id: 'route',
      type: 'choice',
      when: [{ if: { path: '$.steps.approve.output.ok', equals: true }, next: 'ship' }],
      default: 'rejected',
    },
    {
      id: 'ship',
      type: 'parallel',
      branches: [
        [{ id: 'pack-it', type: 'task', agent: 'echo' }],
        [
          { id: 'notify', type: 'task', agent: 'log' },
          { id: 'cool-down', type: 'sleep', ms: 50 },
        ],
      ],
    },
    { id: 'bill', type: 'workflow', workflow: 'billing', end: true },
    { id: 'rejected', type: 'task', agent: 'echo' },
  ],
};

const lines = (text: string): string[] => text.split('\n').map((l) => l.trim());

describe('flowToMermaid', () => {
  const text = flowToMermaid(doc);
  const ls = lines(text);

  it('starts a stateDiagram-v2 at the first step', () => {
    expect(ls[0]).toBe('stateDiagram-v2');
    expect(ls).toContain('[*] --> validate');
  });

  it('follows list order, fallbacks, choice branches (labelled with their conditions) and end', () => {
    expect(ls).toContain('validate --> approve');
    expect(ls).toContain('validate --> rejected : on error');
    expect(ls).toContain('approve --> route');
    expect(ls).toContain('route --> ship : $.steps.approve.output.ok == true');
    expect(ls).toContain('route --> rejected : otherwise');
    expect(ls).toContain('ship --> bill');
    expect(ls).toContain('bill --> [*]');
    expect(ls).toContain('rejected --> [*]');
    expect(ls).not.toContain('bill --> rejected'); // end: true stops list order
    expect(ls).not.toContain('route --> bill');
  });

  it('labels steps, wait steps with their signal', () => {
    expect(ls).toContain('state "approve (wait: approval)" as approve');
    expect(ls).toContain('state "bill (workflow: billing)" as bill');
    expect(ls).toContain('state "route (choice)" as route');
  });

  it('draws a parallel step as a composite state with one region per branch', () => {
    const start = ls.indexOf('state ship {');
    const end = ls.indexOf('}', start);
    expect(start).toBeGreaterThan(0);
    const body = ls.slice(start + 1, end);
    expect(body.filter((l) => l === '--')).toHaveLength(1);
    const sep = body.indexOf('--');
    expect(body.slice(0, sep)).toEqual(['state "pack-it (task: echo)" as pack_it', '[*] --> pack_it', 'pack_it --> [*]']);
    expect(body.slice(sep + 1)).toContain('notify --> cool_down');
    expect(body.slice(sep + 1)).toContain('cool_down --> [*]');
  });

  it('uses Mermaid-safe state ids', () => {
    for (const l of ls) {
      const m = /^(\S+) --> (\S+)/u.exec(l);
      if (m === null) continue;
      expect(m[1]).toMatch(/^(?:\[\*\]|\w+)$/u);
      expect(m[2]).toMatch(/^(?:\[\*\]|\w+)$/u);
    }
    expect(text).not.toMatch(/pack-it -->|--> pack-it/u);
  });

  it('falls through a choice without default to the next step', () => {
    const d: FlowDocument = {
      name: 'x',
      steps: [
        { id: 'c', type: 'choice', when: [{ if: { path: '$.input.a', exists: true }, next: 'z' }] },
        { id: 'y', type: 'task', agent: 'echo' },
        { id: 'z', type: 'task', agent: 'echo' },
      ],
    };
    const out = lines(flowToMermaid(d));
    expect(out).toContain('c --> z : $.input.a exists');
    expect(out).toContain('c --> y : otherwise');
    expect(out).toContain('y --> z');
  });

  it('keeps ids distinct when mapping - to _ and avoids Mermaid keywords', () => {
    const d: FlowDocument = {
      name: 'x',
      steps: [
        { id: 'a-b', type: 'task', agent: 'echo' },
        { id: 'a_b', type: 'task', agent: 'echo' },
        { id: 'default', type: 'task', agent: 'echo' },
        { id: 'state', type: 'task', agent: 'echo' },
      ],
    };
    const out = lines(flowToMermaid(d));
    expect(out).toContain('a_b --> a_b_2');
    expect(out).toContain('a_b_2 --> s_default');
    expect(out).toContain('s_default --> s_state');
  });

  it('labels each branch of a choice, two branches to one step included, and keeps their text on one Mermaid line', () => {
    const d: FlowDocument = {
      name: 'x',
      steps: [
        {
          id: 'c',
          type: 'choice',
          when: [
            { if: { path: '$.input.tier', in: ['gold', 'vip'] }, next: 'fast' },
            { if: { path: '$.input.note', equals: 'a;b\nc::d <b>x</b>' }, next: 'fast' },
          ],
          default: 'slow',
        },
        { id: 'fast', type: 'task', agent: 'echo', end: true },
        { id: 'slow', type: 'task', agent: 'echo' },
      ],
    };
    const out = lines(flowToMermaid(d));
    expect(out).toContain('c --> fast : $.input.tier in ["gold","vip"]');
    expect(out).toContain('c --> fast : $.input.note == "a,b\\nc: :d ‹b>x‹/b>"');
    expect(out).toContain('c --> slow : otherwise');
  });

  it('keeps user text from breaking labels', () => {
    const d: FlowDocument = { name: 'x', steps: [{ id: 'w', type: 'wait', signal: 'say "hi"\n;x' }] };
    expect(lines(flowToMermaid(d))).toContain('state "w (wait: say__hi___x)" as w');
  });
});

describe('conditionLabel', () => {
  it('writes leaves with their operators, all/any/not with words and brackets where they nest', () => {
    expect(conditionLabel({ path: '$.input.n', gte: 10, lt: 20 })).toBe('$.input.n >= 10 and $.input.n < 20');
    expect(conditionLabel({ path: '$.input.x', exists: false })).toBe('$.input.x missing');
    expect(conditionLabel({ path: '$.input.x', notEquals: null })).toBe('$.input.x != null');
    expect(conditionLabel({ any: [{ path: '$.a', gt: 1 }, { all: [{ path: '$.b', lte: 2 }, { path: '$.c', equals: 'y' }] }] })).toBe('$.a > 1 or ($.b <= 2 and $.c == "y")');
    expect(conditionLabel({ not: { path: '$.a', exists: true } })).toBe('not ($.a exists)');
  });

  it('cuts a long condition at 60 characters', () => {
    const label = conditionLabel({ path: '$.input.text', equals: 'x'.repeat(200) });
    expect(label).toHaveLength(60);
    expect(label.endsWith('…')).toBe(true);
  });
});

describe('executionMermaid', () => {
  const text = executionMermaid(doc, { done: ['validate', 'approve', 'route', 'pack-it'], active: ['notify'], failed: ['refund'] });
  const ls = lines(text);

  it('is the definition diagram plus class definitions', () => {
    expect(text.startsWith(flowToMermaid(doc).trimEnd())).toBe(true);
    expect(ls).toContain('classDef done fill:#d4edda');
    expect(ls).toContain('classDef active fill:#cce5ff');
    expect(ls).toContain('classDef failed fill:#f8d7da');
  });

  it('classes each visited state once, with Mermaid ids, ignoring states not drawn', () => {
    const classLines = ls.filter((l) => l.startsWith('class '));
    expect(classLines).toEqual([
      'class validate done',
      'class approve done',
      'class route done',
      'class pack_it done',
      'class notify active',
    ]);
  });

  it('shows a step listed twice by its most pressing kind', () => {
    const out = lines(executionMermaid(doc, { done: ['validate'], active: ['approve'], failed: ['validate', 'approve'] }));
    expect(out.filter((l) => l.startsWith('class '))).toEqual(['class validate failed', 'class approve active']);
  });
});
