/** @module webhooks/send-delivery — one delivery attempt: re-check the URL, POST the signed body, classify the outcome. */
import type { DeliveryRow } from '../store/sqlite-webhook-store.ts';
import { signatureHeader } from './signature.ts';
import { checkWebhookUrl } from './url-guard.ts';

export interface AttemptRequest {
  readonly url: string;
  readonly secret: string;
  readonly delivery: DeliveryRow;
  readonly allowPrivate: boolean;
  readonly timeoutMs: number;
  /** Aborted at shutdown: the attempt is then not counted. */
  readonly signal: AbortSignal;
  readonly nowMs: number;
}

export type AttemptResult =
  | { readonly kind: 'delivered'; readonly statusCode: number }
  | { readonly kind: 'failed'; readonly statusCode: number | null; readonly error: string }
  /** Shutdown interrupted it; the delivery stays as it was and resumes at the next boot. */
  | { readonly kind: 'aborted' };

const USER_AGENT = 'actorflow-webhooks/1';

function describe(err: unknown): string {
  const cause = (err as { cause?: { code?: unknown; message?: unknown } }).cause;
  if (cause && typeof cause.code === 'string') return cause.code;
  if (cause && typeof cause.message === 'string') return cause.message;
  return err instanceof Error ? err.message : String(err);
}

/**
 * POSTs the delivery's body with `content-type: application/json`, `x-actorflow-signature`,
 * `x-actorflow-event` and `x-actorflow-delivery`. 2xx is delivered; any other status, a redirect
 * (never followed: it could point inside), a network error or the timeout is a failed attempt.
 * Never throws.
 */
export async function sendDelivery(req: AttemptRequest): Promise<AttemptResult> {
  const verdict = await checkWebhookUrl(req.url, { allowPrivate: req.allowPrivate });
  if (req.signal.aborted) return { kind: 'aborted' };
  if (!verdict.ok) return { kind: 'failed', statusCode: null, error: `url refused: ${verdict.reason}` };
  const d = req.delivery;
  try {
    const res = await fetch(verdict.url, {
      method: 'POST',
      redirect: 'manual',
      headers: {
        'content-type': 'application/json',
        'user-agent': USER_AGENT,
        'x-actorflow-signature': signatureHeader(req.secret, d.body, Math.floor(req.nowMs / 1000)),
        'x-actorflow-event': d.eventType,
        'x-actorflow-delivery': d.id,
      },
      body: d.body,
      signal: AbortSignal.any([req.signal, AbortSignal.timeout(req.timeoutMs)]),
    });
    // The answer's body is of no interest: drop it without reading it.
    await res.body?.cancel().catch(() => undefined);
    if (res.status >= 200 && res.status < 300) return { kind: 'delivered', statusCode: res.status };
    return { kind: 'failed', statusCode: res.status, error: `HTTP ${res.status}` };
  } catch (err) {
    if (req.signal.aborted) return { kind: 'aborted' };
    if ((err as { name?: unknown }).name === 'TimeoutError') return { kind: 'failed', statusCode: null, error: `timed out after ${req.timeoutMs} ms` };
    return { kind: 'failed', statusCode: null, error: describe(err) };
  }
}
