/**
 * @module bench/nats-floor-agent — the agent half of the NATS floor in bench/nats-flow.ts: the same
 * transport as `actorflow agent`, with no actorflow code. Forked with IPC:
 *   node --import tsx bench/nats-floor-agent.ts <nats url>
 * Pulls from the `BENCH_FLOOR` JetStream work queue (`benchfloor.tasks`, one durable pull consumer,
 * fetches of up to 64 messages as the actorflow worker does), sends each payload back with a request
 * on `benchfloor.results`, then acks. Also answers core requests on `benchfloor.core` at once.
 * Sends `{ type: 'ready' }` once subscribed; exits on disconnect of the IPC channel.
 */
import { AckPolicy, DeliverPolicy, RetentionPolicy, StorageType, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';

/** Also in bench/nats-flow.ts (this file has top-level effects, so it is not imported). */
const FLOOR = { stream: 'BENCH_FLOOR', tasks: 'benchfloor.tasks', results: 'benchfloor.results', core: 'benchfloor.core', durable: 'floor' } as const;

const url = process.argv[2];
const send = process.send?.bind(process);
if (!url || !send) throw new Error('usage: fork bench/nats-floor-agent.ts <nats url> with an IPC channel');

const nc = await connect({ servers: url, name: 'actorflow-bench-floor-agent' });
const jsm = await jetstreamManager(nc);
await jsm.streams.add({ name: FLOOR.stream, subjects: [`${FLOOR.tasks}`], retention: RetentionPolicy.Workqueue, storage: StorageType.File }).catch(() => undefined);
await jsm.consumers.add(FLOOR.stream, { durable_name: FLOOR.durable, ack_policy: AckPolicy.Explicit, deliver_policy: DeliverPolicy.All, max_ack_pending: 100_000 });
const consumer = await jetstream(nc).consumers.get(FLOOR.stream, FLOOR.durable);
nc.subscribe(FLOOR.core, {
  callback: (_err, m) => {
    m.respond(m.data);
  },
});

let stopping = false;
const pull = async () => {
  while (!stopping && !nc.isClosed()) {
    const batch = await consumer.fetch({ max_messages: 64, expires: 5000 });
    for await (const m of batch) {
      void nc.request(FLOOR.results, m.data, { timeout: 5000 }).then(
        () => m.ack(),
        () => m.nak(),
      );
    }
  }
};
void pull().catch((err: unknown) => {
  if (!stopping) process.stderr.write(`floor agent: ${String(err)}\n`);
});
await nc.flush();
send({ type: 'ready' });
process.on('disconnect', () => {
  stopping = true;
  void nc.close().then(() => process.exit(0));
});
