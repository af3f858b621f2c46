/** @module api/http/problem — the one table mapping error codes to HTTP status, and RFC 9457 problem bodies. */
import { ActorflowError, ErrorCode, type Issue } from '../../common/errors.ts';

/** API-only codes (request parsing) that the shared catalogue does not need. */
export const ApiErrorCode = {
  invalidYaml: 'invalid_yaml',
} as const;

/** Error code → HTTP status. Unknown codes: `*_not_found` → 404, anything else → 500. */
export const STATUS_BY_CODE: Readonly<Record<string, number>> = {
  [ErrorCode.badRequest]: 400,
  [ErrorCode.invalidJson]: 400,
  [ApiErrorCode.invalidYaml]: 400,
  [ErrorCode.validationFailed]: 422,
  [ErrorCode.invalidDefinition]: 422,
  [ErrorCode.definitionNotFound]: 404,
  [ErrorCode.executionNotFound]: 404,
  [ErrorCode.stepNotFound]: 404,
  [ErrorCode.agentNotFound]: 404,
  [ErrorCode.notFound]: 404,
  [ErrorCode.definitionRetired]: 409,
  [ErrorCode.definitionCodeMissing]: 409,
  [ErrorCode.versionExists]: 409,
  [ErrorCode.versionConflict]: 409,
  [ErrorCode.executionFinished]: 409,
  [ErrorCode.invalidState]: 409,
  [ErrorCode.notRetryable]: 409,
  [ErrorCode.concurrencyLimit]: 409,
  [ErrorCode.unknownSignal]: 409,
  [ErrorCode.signalBufferFull]: 409,
  [ErrorCode.idempotencyKeyConflict]: 409,
  [ErrorCode.methodNotAllowed]: 405,
  [ErrorCode.payloadTooLarge]: 413,
  [ErrorCode.unsupportedMediaType]: 415,
  [ErrorCode.notReady]: 503,
  [ErrorCode.unauthorized]: 401,
  [ErrorCode.forbidden]: 403,
  [ErrorCode.apiKeyNotFound]: 404,
  [ErrorCode.scheduleNotFound]: 404,
  [ErrorCode.rateLimited]: 429,
  [ErrorCode.tenantNotFound]: 404,
  [ErrorCode.tenantExists]: 409,
  [ErrorCode.tenantLimit]: 429,
  [ErrorCode.requestTimeout]: 503,
  [ErrorCode.storeUnavailable]: 503,
  [ErrorCode.partitionUnavailable]: 503,
  [ErrorCode.sharedStateUnavailable]: 503,
  [ErrorCode.directNotAllowed]: 422,
  [ErrorCode.templateNotFound]: 404,
  [ErrorCode.templateInvalid]: 422,
  [ErrorCode.documentNotFound]: 404,
  [ErrorCode.versionMismatch]: 412,
  [ErrorCode.ifMatchRequired]: 428,
  [ErrorCode.filterRequired]: 422,
  [ErrorCode.bulkOperationNotFound]: 404,
  [ErrorCode.bulkOperationFinished]: 409,
  [ErrorCode.internal]: 500,
  // The data directory cannot rebuild this execution (written by a newer build, or damaged): never run from a wrong state.
  [ErrorCode.snapshotFormatUnsupported]: 500,
  [ErrorCode.snapshotOutputMissing]: 500,
  [ErrorCode.replayDiverged]: 500,
};

const TITLES: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  412: 'Precondition Failed',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  428: 'Precondition Required',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/** Status line text for every status the API answers. */
export const STATUS_LINES: Readonly<Record<number, string>> = {
  200: '200 OK',
  201: '201 Created',
  202: '202 Accepted',
  204: '204 No Content',
  400: '400 Bad Request',
  401: '401 Unauthorized',
  403: '403 Forbidden',
  404: '404 Not Found',
  405: '405 Method Not Allowed',
  409: '409 Conflict',
  412: '412 Precondition Failed',
  413: '413 Content Too Large',
  415: '415 Unsupported Media Type',
  422: '422 Unprocessable Content',
  428: '428 Precondition Required',
  429: '429 Too Many Requests',
  500: '500 Internal Server Error',
  503: '503 Service Unavailable',
};

export function statusLine(status: number): string {
  return STATUS_LINES[status] ?? `${status} Status`;
}

export interface ProblemBody {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly code: string;
  readonly detail: string;
  readonly errors: readonly Issue[];
}

/** A fully resolved problem, ready to write. `internal` marks an unexpected failure worth logging. */
export interface Problem {
  readonly status: number;
  readonly body: ProblemBody;
  readonly internal: boolean;
  /** Headers the answer carries besides the usual ones (`retry-after` of a retryable refusal). */
  readonly headers?: Readonly<Record<string, string>>;
}

export function statusForCode(code: string, overrides?: Readonly<Record<string, number>>): number | undefined {
  const fromRoute = overrides?.[code];
  if (fromRoute !== undefined) return fromRoute;
  const known = STATUS_BY_CODE[code];
  if (known !== undefined) return known;
  return code.endsWith('_not_found') ? 404 : undefined;
}

export function problem(status: number, code: string, detail: string, errors: readonly Issue[] = []): Problem {
  return {
    status,
    internal: code === ErrorCode.internal,
    body: {
      type: `https://actorflow.dev/errors/${code}`,
      title: TITLES[status] ?? 'Error',
      status,
      code,
      detail,
      errors: errors.map((i) => ({ path: i.path, message: i.message })),
    },
  };
}

/** Build a problem for a code with its table status. */
export function problemFor(code: string, detail: string, errors: readonly Issue[] = []): Problem {
  return problem(statusForCode(code) ?? 500, code, detail, errors);
}

/**
 * Map anything thrown by a handler to a problem. ActorflowErrors keep their code; unknown codes
 * that are not `*_not_found` and every other throwable become a bare 500 `internal_error`
 * (the caller logs it; the client never sees a message or stack).
 */
export function toProblem(err: unknown, overrides?: Readonly<Record<string, number>>): Problem {
  if (err instanceof ActorflowError) {
    const status = statusForCode(err.code, overrides);
    if (status !== undefined && err.code !== ErrorCode.internal) {
      const p = problem(status, err.code, err.message, err.issues);
      return err.retryAfterS === undefined ? p : { ...p, headers: { 'retry-after': String(err.retryAfterS) } };
    }
  }
  return problem(500, ErrorCode.internal, 'An unexpected error occurred; it has been logged.');
}
