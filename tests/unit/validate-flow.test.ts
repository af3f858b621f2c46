/** @module tests/unit/validate-flow — structure, reference and control-flow checks of flow documents. */
import { describe, it, expect } from 'vitest';
import { stepEdges, validateFlow } from '../../src/engine/flow/validate-flow.ts';
import type { FlowDocument } from '../../src/common/flow.ts';

type Doc = Record<string, unknown>;

const paths = (doc: unknown, opts?: Parameters<typeof validateFlow>[1]): string[] =>
  validateFlow(doc, opts)
    .map((i) => i.path)
    .sort();

/** A flow using every step type (the example the format was designed around), as JSON. */
const designExample = (): Doc => ({
  name: 'order-fulfilment',
  version: 1,
  inputSchema: { type: 'object', required: ['orderId'], properties: { orderId: { type: 'string' } } },
  timeoutMs: 3_600_000,
  output: { shipped: '$.steps.pack.output', approvedBy: '$.steps.approve.output.by' },
  steps: [
    {
      id: 'validate',
      type: 'task',
      agent: 'http',
      input: { url: 'https://shop.example/validate', method: 'POST', body: { order: '$.input.orderId' } },
      retry: { maxAttempts: 5, backoff: 'exponential', initialMs: 100, factor: 2, maxMs: 10_000 },
      timeoutMs: 30_000,
      onError: 'compensate',
      compensate: 'refund',
    },
    { id: 'approve', type: 'wait', signal: 'approval', questions: [{ id: 'ok', text: 'Ship it?' }], timeoutMs: 86_400_000 },
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
        [{ id: 'pack', type: 'task', agent: 'echo', input: '$.input' }],
        [{ id: 'notify', type: 'task', agent: 'log', input: { level: 'info', message: 'shipping' } }],
      ],
    },
    { id: 'bill', type: 'workflow', workflow: 'billing', input: { orderId: '$.input.orderId' }, end: true },
    { id: 'rejected', type: 'task', agent: 'echo', input: { rejected: true } },
  ],
  compensations: [{ id: 'refund', type: 'task', agent: 'echo', input: { refund: '$.input.orderId' } }],
});

/** Every step type and most optional fields. */
const everyStepType = (): Doc => ({
  name: 'every.step_type-1',
  version: 3,
  description: 'all the things',
  timeoutMs: 60_000,
  inputSchema: { type: 'object', properties: { n: { type: 'number' } } },
  output: ['$.steps.child.output', '$.context.k'],
  steps: [
    {
      id: 'fetch',
      type: 'task',
      agent: 'http',
      input: { url: 'https://x.example', body: ['$.input.items[0]', 'literal $.input'] },
      retry: { maxAttempts: 100, backoff: 'fixed', initialMs: 1, factor: 1, maxMs: 5, jitter: true },
      timeoutMs: 1000,
      onError: { fallback: 'recover' },
      compensate: 'undo-fetch',
    },
    { id: 'nap', type: 'sleep', ms: 10 },
    { id: 'nap-until', type: 'sleep', until: '2030-01-01T00:00:00.000Z' },
    { id: 'nap-path', type: 'sleep', until: '$.input.at' },
    { id: 'ask', type: 'wait', signal: 'answer', timeoutMs: 5000, onError: 'skip' },
    {
      id: 'decide',
      type: 'choice',
      when: [
        {
          if: {
            all: [
              { path: '$.input.n', gte: 1, lt: 10 },
              { any: [{ path: '$.input.tag', in: ['a', 'b'] }, { not: { path: '$.context.k', exists: true } }] },
            ],
          },
          next: 'fan',
        },
        { if: { path: '$.steps.fetch.error.code', notEquals: null }, next: 'recover' },
      ],
    },
    {
      id: 'fan',
      type: 'parallel',
      onError: 'compensate',
      branches: [
        [
          { id: 'b1', type: 'task', agent: 'echo', next: 'b1-last', onError: { fallback: 'b1-recover' } },
          { id: 'b1-recover', type: 'task', agent: 'echo', end: true },
          { id: 'b1-last', type: 'task', agent: 'echo' },
        ],
        [{ id: 'inner', type: 'parallel', branches: [[{ id: 'deep', type: 'wait', signal: 'deep' }]] }],
      ],
      next: 'child',
    },
    { id: 'recover', type: 'task', agent: 'log', input: { level: 'warn', message: 'recovering' }, onError: 'fail' },
    { id: 'child', type: 'workflow', workflow: 'billing', version: 2, input: '$.input', timeoutMs: 9000, onError: 'skip' },
  ],
  compensations: [{ id: 'undo-fetch', type: 'task', agent: 'echo', onError: 'skip', retry: { maxAttempts: 2 } }],
});

describe('validateFlow: valid documents', () => {
  it('accepts a document using every step type', () => {
    expect(validateFlow(everyStepType(), { knownWorkflows: (n) => n === 'billing' })).toEqual([]);
  });

  it('accepts the every-step-type example when its child workflow is known', () => {
    expect(validateFlow(designExample(), { knownWorkflows: (n) => n === 'billing' })).toEqual([]);
  });

  it('does not check workflow names without knownWorkflows', () => {
    expect(validateFlow(designExample())).toEqual([]);
  });

  it('reports an unknown child workflow at the step', () => {
    expect(validateFlow(designExample(), { knownWorkflows: () => false })).toEqual([
      { path: '/steps/4/workflow', message: "unknown workflow 'billing'" },
    ]);
  });

  it('accepts a loop that passes a wait step', () => {
    const doc = {
      name: 'poller',
      steps: [
        { id: 'poll', type: 'task', agent: 'http' },
        { id: 'pause', type: 'sleep', ms: 1000, next: 'poll' },
      ],
    };
    expect(validateFlow(doc)).toEqual([]);
  });

  it('accepts a retry loop through a choice that passes a task, and a loop through a parallel whose every branch blocks', () => {
    const doc = {
      name: 'retry-loop',
      steps: [
        { id: 'call', type: 'task', agent: 'echo' },
        { id: 'fan', type: 'parallel', branches: [[{ id: 'a', type: 'task', agent: 'echo' }], [{ id: 'b', type: 'sleep', ms: 5 }]] },
        { id: 'again', type: 'choice', when: [{ if: { path: '$.steps.call.output.done', equals: true }, next: 'out' }], default: 'fan' },
        { id: 'out', type: 'task', agent: 'echo' },
      ],
    };
    expect(validateFlow(doc)).toEqual([]);
  });

  it('accepts 100 parallel branches', () => {
    const doc = { name: 'wide', steps: [{ id: 'p', type: 'parallel', branches: Array.from({ length: 100 }, (_, i) => [{ id: `s${i}`, type: 'task', agent: 'echo' }]) }] };
    expect(validateFlow(doc)).toEqual([]);
  });
});

const base = (steps: unknown[], extra: Doc = {}): Doc => ({ name: 'f', steps, ...extra });
const task = (id: string, more: Doc = {}): Doc => ({ id, type: 'task', agent: 'echo', ...more });

describe('validateFlow: invalid documents report exact paths', () => {
  const cases: [string, unknown, string[]][] = [
    ['missing name and steps', {}, ['/name', '/steps']],
    ['empty steps', base([]), ['/steps']],
    ['bad name', { name: '-x', steps: [task('a')] }, ['/name']],
    ['unknown top-level field', base([task('a')], { extra: 1 }), ['/extra']],
    ['unknown step type', base([{ id: 'a', type: 'loop' }]), ['/steps/0/type']],
    ['missing type', base([{ id: 'a' }]), ['/steps/0/type']],
    ['bad step id', base([task('a b')]), ['/steps/0/id']],
    ['task without agent', base([{ id: 'a', type: 'task' }]), ['/steps/0/agent']],
    ['field of another step type', base([task('a', { signal: 'x' })]), ['/steps/0/signal']],
    ['non-positive timeout', base([task('a', { timeoutMs: 0 })]), ['/steps/0/timeoutMs']],
    ['fractional ms', base([{ id: 's', type: 'sleep', ms: 1.5 }]), ['/steps/0/ms']],
    [
      'bad retry',
      base([task('a', { retry: { maxAttempts: 101, backoff: 'linear', factor: 0.5, jitter: 'no', x: 1 } })]),
      ['/steps/0/retry/backoff', '/steps/0/retry/factor', '/steps/0/retry/jitter', '/steps/0/retry/maxAttempts', '/steps/0/retry/x'],
    ],
    ['bad onError word', base([task('a', { onError: 'retry' })]), ['/steps/0/onError']],
    ['bad onError object', base([task('a', { onError: { goto: 'a' } })]), ['/steps/0/onError/fallback', '/steps/0/onError/goto']],
    ['sleep with neither ms nor until', base([{ id: 's', type: 'sleep' }]), ['/steps/0/until']],
    ['sleep with both', base([{ id: 's', type: 'sleep', ms: 1, until: '$.input.t' }]), ['/steps/0']],
    ['sleep until garbage', base([{ id: 's', type: 'sleep', until: 'tomorrow' }]), ['/steps/0/until']],
    ['sleep until impossible date', base([{ id: 's', type: 'sleep', until: '2026-13-01T00:00:00Z' }]), ['/steps/0/until']],
    ['wait without signal', base([{ id: 'w', type: 'wait' }]), ['/steps/0/signal']],
    ['choice without when', base([{ id: 'c', type: 'choice' }]), ['/steps/0/when']],
    [
      'bad conditions',
      base([
        {
          id: 'c',
          type: 'choice',
          when: [
            { if: { path: 'input.x', equals: 1 }, next: 'c' },
            { if: { path: '$.input.x' }, next: 'c' },
            { if: { all: [] }, next: 'c' },
            { if: { not: { path: '$.input.x', gt: 'high' } }, next: 'c', else: 'c' },
          ],
        },
      ]),
      // The choice routing to itself is also a cycle that never blocks (issue 11).
      ['/steps/0', '/steps/0/when/0/if/path', '/steps/0/when/1/if', '/steps/0/when/2/if/all', '/steps/0/when/3/else', '/steps/0/when/3/if/not/gt'],
    ],
    // Issue 11: cycles that can repeat within one input, reserved ids, the parallel-branch cap.
    ['a choice routing back to itself (issue 11)', base([{ id: 'c', type: 'choice', when: [{ if: { path: '$.input.stop', exists: true }, next: 'e' }], default: 'c' }, task('e')]), ['/steps/0']],
    ['a loop through a parallel whose branches may finish at once', base([{ id: 'p', type: 'parallel', branches: [[{ id: 'c1', type: 'choice', when: [{ if: { path: '$.input.a', exists: true }, next: 't1' }], end: true }, task('t1')], [{ id: 'c2', type: 'choice', when: [{ if: { path: '$.input.a', exists: true }, next: 't2' }], end: true }, task('t2')]] }, { id: 'c', type: 'choice', when: [{ if: { path: '$.input.stop', exists: true }, next: 'e' }], default: 'p' }, task('e')]), ['/steps/0']],
    ['a loop through a workflow step only', base([{ id: 'w', type: 'workflow', workflow: 'other' }, { id: 'c', type: 'choice', when: [{ if: { path: '$.input.stop', exists: true }, next: 'e' }], default: 'w' }, task('e')]), ['/steps/0']],
    ['reserved step ids', base([task('__proto__'), task('constructor'), { id: 'p', type: 'parallel', branches: [[task('prototype')]] }]), ['/steps/0/id', '/steps/1/id', '/steps/2/branches/0/0/id']],
    ['more parallel branches than the cap', base([{ id: 'p', type: 'parallel', branches: Array.from({ length: 101 }, (_, i) => [task(`s${i}`)]) }]), ['/steps']],
    ['parallel with empty branch', base([{ id: 'p', type: 'parallel', branches: [[task('x')], []] }]), ['/steps/0/branches/1']],
    ['parallel without branches', base([{ id: 'p', type: 'parallel', branches: [] }]), ['/steps/0/branches']],
    ['nested step error path', base([{ id: 'p', type: 'parallel', branches: [[task('x'), task('y', { next: 5 })]] }]), ['/steps/0/branches/0/1/next']],
    ['workflow step without name', base([{ id: 'w', type: 'workflow' }]), ['/steps/0/workflow']],
    ['compensation that is not a task', base([task('a')], { compensations: [{ id: 'c', type: 'wait', signal: 's' }] }), ['/compensations/0/agent', '/compensations/0/signal', '/compensations/0/type']],
    ['invalid inputSchema', base([task('a')], { inputSchema: { type: 'strnig' } }), ['/inputSchema']],
    ['inputSchema with a missing $ref', base([task('a')], { inputSchema: { $ref: '#/definitions/nope' } }), ['/inputSchema']],
    // semantics
    ['duplicate ids across branches and compensations', base([task('a', { compensate: 'a' }), { id: 'p', type: 'parallel', branches: [[task('a')], [task('b')]] }], { compensations: [task('b')] }), ['/compensations/0/id', '/steps/0/compensate', '/steps/1/branches/0/0/id']],
    ['dangling next', base([task('a', { next: 'nope' })]), ['/steps/0/next']],
    ['dangling fallback', base([task('a', { onError: { fallback: 'nope' } })]), ['/steps/0/onError/fallback']],
    ['dangling choice targets', base([{ id: 'c', type: 'choice', when: [{ if: { path: '$.input', exists: true }, next: 'x' }], default: 'y' }, task('z')]), ['/steps/0/default', '/steps/0/when/0/next']],
    ['dangling compensate', base([task('a', { compensate: 'undo' })], { compensations: [task('refund')] }), ['/steps/0/compensate']],
    ['compensate naming a step', base([task('a', { compensate: 'a' })]), ['/steps/0/compensate']],
    ['jump to a compensation', base([task('a', { next: 'undo' })], { compensations: [task('undo')] }), ['/steps/0/next']],
    ['jump out of a branch', base([{ id: 'p', type: 'parallel', branches: [[task('x', { next: 'after' })]] }, task('after')]), ['/steps/0/branches/0/0/next']],
    ['jump into a branch', base([task('a', { next: 'x' }), { id: 'p', type: 'parallel', branches: [[task('x')]] }]), ['/steps/0/next']],
    ['end and next together', base([task('a', { end: true, next: 'b' }), task('b')]), ['/steps/0/end']],
    ['jumping fields on a compensation', base([task('a')], { compensations: [task('u', { next: 'a', onError: { fallback: 'a' } })] }), ['/compensations/0/next', '/compensations/0/onError']],
    ['unreachable after end', base([task('a', { end: true }), task('b'), task('c')]), ['/steps/1', '/steps/2']],
    ['unreachable skipped by next', base([task('a', { next: 'c' }), task('b'), task('c')]), ['/steps/1']],
    ['unreachable inside a branch', base([{ id: 'p', type: 'parallel', branches: [[task('x', { end: true }), task('y')]] }]), ['/steps/0/branches/0/1']],
    ['self loop', base([task('a', { next: 'a' })]), ['/steps/0']],
    ['loop without exit', base([task('a'), task('b', { next: 'c' }), task('c', { next: 'b' })]), ['/steps/1']],
    ['loop through a choice with no exit', base([task('a'), { id: 'c', type: 'choice', when: [{ if: { path: '$.input', exists: true }, next: 'a' }], default: 'a' }]), ['/steps/0']],
    ['loop inside a branch', base([{ id: 'p', type: 'parallel', branches: [[task('x'), task('y', { next: 'x' })]] }]), ['/steps/0/branches/0/0']],
  ];

  it.each(cases)('%s', (_name, doc, expected) => {
    expect(paths(doc)).toEqual([...expected].sort());
  });

  it('does not flag loops that can leave or pause', () => {
    const leaves = base([
      task('a'),
      { id: 'c', type: 'choice', when: [{ if: { path: '$.steps.a.output.done', equals: true }, next: 'z' }], default: 'a' },
      task('z'),
    ]);
    const falls = base([task('a', { next: 'a', onError: { fallback: 'z' } }), task('z')]);
    const pausesInBranch = base([{ id: 'p', type: 'parallel', branches: [[{ id: 'w', type: 'wait', signal: 's' }]], next: 'p' }]);
    expect(validateFlow(leaves)).toEqual([]);
    expect(validateFlow(falls)).toEqual([]);
    expect(validateFlow(pausesInBranch)).toEqual([]);
  });

  it('reports several errors of different kinds at once', () => {
    const doc = {
      name: 'many',
      bogus: true,
      steps: [
        task('a', { next: 'missing' }),
        { id: 'b', type: 'teleport' },
        task('a'),
        { id: 'w', type: 'workflow', workflow: 'ghost' },
        { id: 's', type: 'sleep', ms: -1 },
      ],
    };
    const issues = validateFlow(doc, { knownWorkflows: () => false });
    expect(issues.map((i) => i.path).sort()).toEqual(
      ['/bogus', '/steps/0/next', '/steps/1/type', '/steps/2/id', '/steps/3/workflow', '/steps/4/ms'].sort(),
    );
    expect(issues.find((i) => i.path === '/steps/2/id')?.message).toMatch(/duplicate step id 'a'/u);
    expect(issues.find((i) => i.path === '/steps/1/type')?.message).toMatch(/unknown step type/u);
    expect(issues.find((i) => i.path === '/bogus')?.message).toMatch(/not a field/u);
  });

  it('explains jumps across branch boundaries', () => {
    const doc = base([{ id: 'p', type: 'parallel', branches: [[task('x', { next: 'after' })]] }, task('after')]);
    expect(validateFlow(doc)[0]?.message).toMatch(/cannot cross parallel branch boundaries/u);
  });

  it('limits the total number of steps, nested ones included', () => {
    const branch = Array.from({ length: 600 }, (_, i) => task(`x${i}`));
    const doc = base([{ id: 'p', type: 'parallel', branches: [branch, branch.map((s) => ({ ...s, id: `y${String(s.id)}` }))] }]);
    const issues = validateFlow(doc);
    expect(issues).toEqual([expect.objectContaining({ path: '/steps', message: expect.stringMatching(/1201 steps/u) })]);
  });

  it('escapes unknown field names as JSON Pointer tokens', () => {
    expect(paths(base([task('a', { 'x/y~z': 1 })]))).toEqual(['/steps/0/x~1y~0z']);
  });
});

describe('validateFlow: garbage never throws', () => {
  let inner: unknown[] = [task('leaf')];
  for (let i = 0; i < 5000; i++) inner = [{ id: `p${i}`, type: 'parallel', branches: [inner] }];
  const deep = base(inner);
  const cyclic: Doc = { name: 'c', steps: [] };
  (cyclic.steps as unknown[]).push({ id: 'p', type: 'parallel', branches: [cyclic.steps] });

  const garbage: [string, unknown][] = [
    ['null', null],
    ['undefined', undefined],
    ['string', 'x'],
    ['number', 5],
    ['array', [1, 2]],
    ['steps: 5', { steps: 5 }],
    ['steps of junk', { name: 'x', steps: [5, null, 'a', [], { type: 'choice', when: 'x' }] }],
    ['junk in every slot', { name: 1, steps: [{ id: {}, type: 'parallel', branches: [[null], 'x', [{ type: 'choice', when: [null, { if: 5 }] }]] }], compensations: 'x', inputSchema: 5 }],
    ['deeply nested parallels', deep],
    ['cyclic object', cyclic],
  ];

  it.each(garbage)('%s returns issues', (_name, doc) => {
    let issues: unknown[] = [];
    expect(() => {
      issues = validateFlow(doc);
    }).not.toThrow();
    expect(issues.length).toBeGreaterThan(0);
  });

  it('reports a non-object document at the root', () => {
    expect(validateFlow(null)).toEqual([{ path: '', message: 'must be object' }]);
  });

  it('reports the shape of {steps: 5}', () => {
    expect(paths({ steps: 5 })).toEqual(['/name', '/steps']);
  });

  it('does not cascade malformed steps into unreachable-step issues', () => {
    expect(paths({ name: 'x', steps: [5, null, task('a')] })).toEqual(['/steps/0', '/steps/1']);
  });
});

describe('stepEdges', () => {
  const steps = (base([
    task('a', { onError: { fallback: 'c' } }),
    { id: 'b', type: 'choice', when: [{ if: { path: '$.input', exists: true }, next: 'a' }] },
    task('c', { end: true }),
  ]) as unknown as FlowDocument).steps;

  it('follows list order, fallbacks, choice branches (with their index) and end', () => {
    expect(stepEdges(steps, 0)).toEqual([
      { kind: 'next', to: 'b' },
      { kind: 'fallback', to: 'c' },
    ]);
    expect(stepEdges(steps, 1)).toEqual([
      { kind: 'when', to: 'a', branch: 0 },
      { kind: 'default', to: 'c' },
    ]);
    expect(stepEdges(steps, 2)).toEqual([{ kind: 'next', to: null }]);
  });
});
