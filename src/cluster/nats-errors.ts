/** @module cluster/nats-errors — which NATS failures mean what, for the cluster's compare-and-set writes. */
import { JetStreamApiError, JetStreamApiCodes } from '@nats-io/jetstream';

/** A publish refused by its expected-last-(subject-)sequence header: someone else wrote first (a lost race, not a fault). */
export function isWrongLastSequence(err: unknown): boolean {
  return err instanceof JetStreamApiError
    && (err.code === JetStreamApiCodes.StreamWrongLastSequence || err.code === JetStreamApiCodes.StreamWrongLastSequenceUnknown);
}
