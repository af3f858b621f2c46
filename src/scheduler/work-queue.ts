/** @module scheduler/work-queue — runs async jobs one at a time, in order; `idle()` waits for the queue to drain. */

/** A serial queue: the scheduler's timer fires and API changes never interleave. */
export class WorkQueue {
  private tail: Promise<void> = Promise.resolve();
  private pending = 0;

  /** Queues `job`; the answer settles with it. A failing job does not stop the queue. */
  run<T>(job: () => Promise<T>): Promise<T> {
    this.pending++;
    const out = this.tail.then(job);
    this.tail = out.then(
      () => void this.pending--,
      () => void this.pending--,
    );
    return out;
  }

  /** Resolves once nothing is queued or running (jobs queued meanwhile included). */
  async idle(): Promise<void> {
    while (this.pending > 0) await this.tail;
  }
}
