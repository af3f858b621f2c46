/** @module api/resources/bulk-operations/routes — the route table of bulk operations: create (or dry-run), list, read, cancel. */
import { Type } from '@sinclair/typebox';
import { BULK_ACTIONS } from '../../../bulk/types.ts';
import { ErrorCode } from '../../../common/errors.ts';
import type { RouteSpec } from '../../routing/route-spec.ts';
import { ANY, EMPTY_OBJECT, PAGE, dateTime, executionId, executionStatuses, idempotencyKey, labels, longString, shape, shortString, stringEnum, ulidId } from '../../routing/schemas.ts';

const { Optional } = Type;

/** Execution ids a filter may list. */
export const MAX_FILTER_IDS = 1000;

export const bulkOperationId = ulidId('bk', 'Bulk operation id');

export const bulkFilter = shape(
  {
    status: Optional(executionStatuses),
    workflow: Optional(shortString),
    labels: Optional(labels),
    createdAfter: Optional(dateTime),
    createdBefore: Optional(dateTime),
    ids: Optional(Type.Array(executionId, { minItems: 1, maxItems: MAX_FILTER_IDS, description: `These executions (at most ${MAX_FILTER_IDS}); unknown ones match nothing.` })),
  },
  { description: 'The executions to act on, as `GET /executions` filters them (all given criteria must hold); at least one criterion (else 422 `filter_required`).' },
);

const idParams = shape({ id: bulkOperationId });
const ID_404 = { id: ErrorCode.bulkOperationNotFound } as const;

export const BULK_OPERATION_ROUTES = [
  {
    id: 'createBulkOperation',
    method: 'post',
    path: '/bulk-operations',
    summary:
      'Act on every execution a filter matches: `cancel`, `retry`, `pause`, `resume` or `signal` (with `signal: { name, payload }`), the same call as each single route. ' +
      'The matched set is fixed and durable before the 202 `{ id, status, matched }`; the operation runs paced in the background and resumes after a restart. ' +
      '`dryRun: true` changes nothing and answers 200 `{ matched, sample }` (the first 20 ids, newest first).',
    tag: 'bulk',
    headers: ['idempotency-key'],
    body: {
      schema: shape({
        action: stringEnum(BULK_ACTIONS, { description: 'The control call made on each matched execution.' }),
        filter: Optional(bulkFilter),
        signal: Optional(shape({ name: shortString, payload: Optional(ANY) }, { description: 'The signal of `action: signal` (required there, refused otherwise).' })),
        reason: Optional(longString),
        dryRun: Optional(Type.Boolean({ description: 'Only count the matches and show a sample: nothing is stored or changed.' })),
        idempotencyKey: Optional(idempotencyKey),
      }),
    },
    status: 202,
    alsoStatus: [200],
    errorStatus: { [ErrorCode.filterRequired]: 422 },
  },
  {
    id: 'listBulkOperations',
    method: 'get',
    path: '/bulk-operations',
    summary: 'Bulk operations, newest first.',
    tag: 'bulk',
    query: shape(PAGE),
    status: 200,
  },
  {
    id: 'getBulkOperation',
    method: 'get',
    path: '/bulk-operations/{id}',
    summary: 'One bulk operation: its counts so far (`succeeded`, `failed`, `skipped` of `matched`) and the first 100 failures.',
    tag: 'bulk',
    params: idParams,
    paramNotFound: ID_404,
    status: 200,
  },
  {
    id: 'cancelBulkOperation',
    method: 'post',
    path: '/bulk-operations/{id}/cancel',
    summary: 'Stop a running bulk operation: what was done stays done (calls in flight finish). 409 `bulk_operation_finished` once it ended.',
    tag: 'bulk',
    params: idParams,
    paramNotFound: ID_404,
    body: { schema: EMPTY_OBJECT, optional: true },
    status: 202,
  },
] as const satisfies readonly RouteSpec[];
