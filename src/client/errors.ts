/** @module client/errors — problem+json answers (RFC 9457) as typed exceptions. */

/** One failing JSON path of a problem answer. */
export interface ProblemFieldError {
  readonly path: string;
  readonly message: string;
}

/** The problem details body the server sends on every error. */
export interface Problem {
  readonly type?: string;
  readonly title?: string;
  readonly status?: number;
  readonly code?: string;
  readonly detail?: string;
  readonly errors?: readonly ProblemFieldError[];
}

/** A non-2xx answer from the API. `status` 0 means the server could not be reached. */
export class ActorflowApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly errors: readonly ProblemFieldError[];
  readonly problem: Problem | null;
  readonly requestId: string | null;

  constructor(status: number, problem: Problem | null, fallback: string, requestId: string | null = null) {
    super(problem?.detail ?? problem?.title ?? fallback);
    this.name = 'ActorflowApiError';
    this.status = status;
    this.code = problem?.code ?? (status === 0 ? 'network_error' : `http_${status}`);
    this.errors = problem?.errors ?? [];
    this.problem = problem;
    this.requestId = requestId;
  }
}

/** True for a 404 answer (unknown or another tenant's resource). */
export function isNotFound(err: unknown): err is ActorflowApiError {
  return err instanceof ActorflowApiError && err.status === 404;
}

/** True for a 409 answer (state conflict). */
export function isConflict(err: unknown): err is ActorflowApiError {
  return err instanceof ActorflowApiError && err.status === 409;
}
