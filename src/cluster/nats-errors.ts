/** @module cluster/nats-errors — which NATS failures mean what, for the cluster's compare-and-set writes. */
import { JetStreamApiError, JetStreamApiCodes } from '@nats-io/jetstream';
import { ClosedConnectionError } from '@nats-io/transport-node';

/** A publish refused by its expected-last-(subject-)sequence header: someone else wrote first (a lost race, not a fault). */
export function isWrongLastSequence(err: unknown): boolean {
  return err instanceof JetStreamApiError
    && (err.code === JetStreamApiCodes.StreamWrongLastSequence || err.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown);
}

/**
 * A failure that may pass by itself: a timeout, no responder (the connection is between servers), or
 * a 503 answer (no JetStream quorum while a server is down or a leader is being elected). A closed
 * connection, and any other answer of the JetStream API, will not.
 */
export function isTransient(err: unknown): boolean {
  if (err instanceof ClosedConnectionError) return false;
  if (err instanceof JetStreamApiError) return err.status === 503;
  return true;
}

/** NATS's "no suitable peers for placement" (JSClusterNoPeersErr): a replicated stream asked for before every server joined the cluster. */
const NO_PEERS_FOR_PLACEMENT = 10005;

/**
 * A setup request (creating a replicated stream or bucket) refused only for now: not enough servers have
 * joined the JetStream cluster yet (right after it starts, or while one restarts), no quorum answers,
 * or nothing answers yet.
 */
export function isSetupPending(err: unknown): boolean {
  // "JetStream is not enabled" is how the client reports no responders: a stream just created on
  // another server whose subjects this server does not route yet, or a server still joining.
  return (err instanceof JetStreamApiError && (err.code === NO_PEERS_FOR_PLACEMENT || err.status === 503)) || (err instanceof Error && err.name === 'JetStreamNotEnabled');
}
