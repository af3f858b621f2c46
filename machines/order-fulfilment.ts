/** A code-first definition: a typed flow document built in TypeScript, registered at boot with `source: "code"`. */
import type { FlowDocument } from '../src/common/flow.ts';

const retry = { maxAttempts: 3, backoff: 'exponential', initialMs: 100, factor: 2, maxMs: 2000 } as const;

export const definitions: FlowDocument[] = [
  {
    name: 'order-fulfilment',
    inputSchema: { type: 'object', required: ['orderId'], properties: { orderId: { type: 'string' } } },
    output: { shipped: '$.steps.pack.output', approvedBy: '$.steps.approve.output.by' },
    steps: [
      { id: 'validate', type: 'task', agent: 'echo', input: { order: '$.input.orderId' }, retry, onError: 'compensate', compensate: 'release' },
      { id: 'approve', type: 'wait', signal: 'approval', questions: [{ id: 'ok', text: 'Ship it?' }], timeoutMs: 86_400_000 },
      { id: 'route', type: 'choice', when: [{ if: { path: '$.steps.approve.output.ok', equals: true }, next: 'ship' }], default: 'rejected' },
      {
        id: 'ship',
        type: 'parallel',
        branches: [
          [{ id: 'pack', type: 'task', agent: 'echo', input: '$.input' }],
          [{ id: 'notify', type: 'task', agent: 'log', input: { level: 'info', message: 'shipping' } }],
        ],
        end: true,
      },
      { id: 'rejected', type: 'task', agent: 'echo', input: { rejected: true } },
    ],
    compensations: [{ id: 'release', type: 'task', agent: 'echo', input: { release: '$.input.orderId' } }],
  },
];
