/**
 * @module cli/commands/bulk — `actorflow bulk cancel|retry|pause|resume|signal` on the executions a filter
 * matches (`--dry-run` counts them first; otherwise the operation's progress until it ends), and
 * `bulk list|get|stop`.
 */
import type { BulkAction, BulkFilter, BulkOperationView, CreateBulkOperationRequest, ExecutionStatus } from '../../client/index.ts';
import { getCommand, listCommand } from './builders.ts';
import { type Ctx, ExitCode, UsageError } from './common.ts';
import { labelsOf } from './executions.ts';
import { show } from './output.ts';
import { progressOn } from './progress.ts';
import type { Command, Flags, Group } from './spec.ts';

const FILTER_FLAGS: Flags = {
  status: { type: 'string', arg: 'S,S', help: 'executions in these statuses (comma list)' },
  workflow: { type: 'string', arg: 'W', help: 'executions of this workflow' },
  label: { type: 'string', multiple: true, arg: 'K=V', help: 'executions with this label (repeat: all of them)' },
  'created-after': { type: 'string', arg: 'TIME', help: 'created at or after this RFC 3339 time' },
  'created-before': { type: 'string', arg: 'TIME', help: 'created before this RFC 3339 time' },
  id: { type: 'string', multiple: true, arg: 'ID', help: 'this execution (repeat; at most 1000)' },
};

const RUN_FLAGS: Flags = {
  'dry-run': { type: 'boolean', help: 'only count the matching executions and show 20 of them; nothing changes' },
  'no-wait': { type: 'boolean', help: 'print the operation and return (it runs on in the server)' },
  'idempotency-key': { type: 'string', arg: 'KEY', help: 'the same key and request within 24 h returns the first operation' },
};

const KEYS = ['id', 'action', 'status', 'matched', 'succeeded', 'failed', 'skipped', 'filter', 'errors', 'createdAt', 'finishedAt'];

function filterOf(c: Ctx): BulkFilter {
  const status = c.str('status');
  const labels = labelsOf(c.strs('label'));
  const [after, before] = [c.str('created-after'), c.str('created-before')];
  const ids = c.strs('id');
  const filter: BulkFilter = {
    ...(status === undefined ? {} : { status: status.split(',').map((s) => s.trim()) as ExecutionStatus[] }),
    ...(c.str('workflow') === undefined ? {} : { workflow: c.str('workflow') as string }),
    ...(labels === undefined ? {} : { labels }),
    ...(after === undefined ? {} : { createdAfter: after }),
    ...(before === undefined ? {} : { createdBefore: before }),
    ...(ids.length === 0 ? {} : { ids }),
  };
  if (Object.keys(filter).length === 0) throw new UsageError('give a filter: --status, --workflow, --label, --created-after, --created-before or --id');
  return filter;
}

const counts = (op: BulkOperationView): string => `succeeded ${op.succeeded}  skipped ${op.skipped}  failed ${op.failed}`;

/** Follows the operation to its end, with a progress bar on a terminal; exit 0 when it completed without a failure. */
async function follow(c: Ctx, id: string, matched: number): Promise<number> {
  const progress = progressOn(process.stderr, matched);
  const op = await c.client.bulkOperations.wait(id, { onProgress: (x) => progress.update(x.succeeded + x.skipped + x.failed, counts(x)) });
  progress.end(op.succeeded + op.skipped + op.failed, `${counts(op)}  ${op.status}`);
  show(c, op, KEYS);
  return op.status === 'completed' && op.failed === 0 ? ExitCode.ok : ExitCode.executionFailed;
}

function actionCommand(action: BulkAction, summary: string, own: Flags = {}, body: (c: Ctx) => Partial<CreateBulkOperationRequest> = () => ({})): Command {
  return {
    name: `bulk ${action}`,
    ...(action === 'signal' ? { args: '<name>' } : {}),
    summary,
    details:
      'The matched set is fixed when the operation is created; the server then acts on each execution as its single route would, ' +
      'paced, resuming after a restart. Executions whose state refuses the action are skipped. Exit 0 when it completed without a failure, 5 otherwise.',
    flags: { ...FILTER_FLAGS, ...own, ...RUN_FLAGS },
    async run(c) {
      const req: CreateBulkOperationRequest = { action, filter: filterOf(c), ...body(c) };
      if (c.bool('dry-run')) {
        const preview = await c.client.bulkOperations.preview(req);
        if (c.json) c.out(JSON.stringify(preview, null, 2));
        else c.out([`${preview.matched} execution${preview.matched === 1 ? '' : 's'} would get ${action}${preview.sample.length < preview.matched ? `; the first ${preview.sample.length}:` : ''}`, ...preview.sample].join('\n'));
        return ExitCode.ok;
      }
      const key = c.str('idempotency-key');
      const accepted = await c.client.bulkOperations.create(req, key === undefined ? {} : { idempotencyKey: key });
      if (c.bool('no-wait')) {
        c.out(c.json ? JSON.stringify(accepted, null, 2) : `${accepted.id}: ${action} of ${accepted.matched} executions, ${accepted.status}`);
        return ExitCode.ok;
      }
      if (!c.json) c.err(`${accepted.id}: ${action} of ${accepted.matched} executions`);
      return follow(c, accepted.id, accepted.matched);
    },
  };
}

export const BULK: Group = {
  name: 'bulk',
  summary: 'act on every execution a filter matches: cancel, retry, pause, resume, signal (with progress)',
  default: 'list',
  commands: [
    actionCommand('cancel', 'cancel the matching executions', { reason: { type: 'string', arg: 'TEXT', help: 'why (each execution\'s cancel reason)' } }, (c) => {
      const reason = c.str('reason');
      return reason === undefined ? {} : { reason };
    }),
    actionCommand('retry', 'retry the matching failed or timed-out executions', { note: { type: 'string', arg: 'TEXT', help: 'a note on each retry' } }, (c) => {
      const note = c.str('note');
      return note === undefined ? {} : { reason: note };
    }),
    actionCommand('pause', 'pause the matching running or waiting executions'),
    actionCommand('resume', 'resume the matching paused executions'),
    actionCommand('signal', 'send signal <name> to the matching executions', { payload: { type: 'string', arg: 'JSON|@FILE', help: 'the signal payload: JSON text, @file or @- (stdin)' } }, (c) => {
      const payload = c.jsonValue('payload');
      return { signal: { name: c.arg(0, 'name'), ...(payload === undefined ? {} : { payload }) } };
    }),
    listCommand({
      name: 'bulk list',
      summary: 'bulk operations, newest first',
      columns: [['ID', 'id'], ['ACTION', 'action'], ['STATUS', 'status'], ['MATCHED', 'matched'], ['SUCCEEDED', 'succeeded'], ['SKIPPED', 'skipped'], ['FAILED', 'failed'], ['CREATED', 'createdAt']],
      list: (c, page) => c.client.bulkOperations.list(page),
    }),
    getCommand({ name: 'bulk get', summary: 'one bulk operation: its counts and first failures', keys: KEYS, get: (c, id) => c.client.bulkOperations.get(id) }),
    {
      name: 'bulk stop',
      args: '<id>',
      summary: 'cancel a running bulk operation (what was done stays done; exit 4 once it ended)',
      async run(c) {
        show(c, await c.client.bulkOperations.cancel(c.arg(0, 'id')), KEYS);
        return ExitCode.ok;
      },
    },
  ],
};
