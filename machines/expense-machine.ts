/**
 * An XState-native workflow (docs/machines.md): an XState v5 machine, exported under `machines`, runs
 * as the workflow `expense-approval`. `task(kind)` invokes are durable steps sent to agents, `after`
 * is a durable timer, and `POST /executions/{id}/signals/approve` `{ "payload": { "by": "ada" } }`
 * is the event `{ type: 'approve', by: 'ada' }`. Actions use now(), never Date.now().
 */
import { assign, setup } from 'xstate';
// In your own project: import { now, task } from 'actorflow/machine';
import { now, task } from '../src/machine/index.ts';

interface Expense {
  amount: number;
  approvedBy: string | null;
  decidedAt: number | null;
  payment: unknown;
}

export const expenseApproval = setup({
  types: {} as {
    context: Expense;
    input: { amount: number };
    events: { type: 'approve'; by: string } | { type: 'reject'; reason?: string };
  },
  actors: {
    notify: task('log'),
    pay: task<{ amount: number }>('echo', { timeoutMs: 10_000, retry: { maxAttempts: 5 } }),
  },
  guards: { small: ({ context }) => context.amount < 100 },
}).createMachine({
  id: 'expense',
  context: ({ input }) => ({ amount: input.amount, approvedBy: null, decidedAt: null, payment: null }),
  initial: 'triage',
  states: {
    triage: { always: [{ guard: 'small', target: 'paying' }, { target: 'awaitingApproval' }] },
    awaitingApproval: {
      invoke: { id: 'notify', src: 'notify', input: ({ context }: { context: Expense }) => ({ level: 'info', message: `expense of ${context.amount} needs approval` }) },
      on: {
        approve: { target: 'paying', actions: assign({ approvedBy: ({ event }) => event.by, decidedAt: () => now() }) },
        reject: 'rejected',
      },
      // Nobody decided within a day: rejected (a durable timer, it survives restarts).
      after: { 86_400_000: 'rejected' },
    },
    paying: {
      invoke: { id: 'pay', src: 'pay', input: ({ context }: { context: Expense }) => ({ amount: context.amount }), onDone: { target: 'paid', actions: assign({ payment: ({ event }) => event.output }) } },
    },
    paid: { type: 'final' },
    rejected: { type: 'final' },
  },
  output: ({ context }) => ({ approvedBy: context.approvedBy, decidedAt: context.decidedAt, payment: context.payment }),
});

export const machines = { 'expense-approval': expenseApproval };
