/**
 * @module tests/support/nats-cluster — a real NATS cluster for tests: N `nats-server` processes with
 * JetStream on loopback (free client and cluster ports, a temp store each), routed to each other, and
 * ready once JetStream has a meta leader (streams can then be created with N replicas).
 */
import { jetstreamManager } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { freePort, portTaken, startNatsServer, type NatsServer } from './nats.ts';
import { pollUntil } from './wait.ts';

export interface NatsCluster {
  readonly servers: readonly NatsServer[];
  /** Every server's client URL, comma-separated (what a node is given). */
  readonly urls: string;
  /** The server whose JetStream name (`-n`) is `name`. */
  byName(name: string): NatsServer;
  /** The name of the JetStream meta leader, from a running server's monitoring endpoint (`/jsz`). */
  metaLeader(): Promise<string>;
  /** Kills every server and removes the stores. Idempotent. */
  close(): Promise<void>;
}

/**
 * Server `i` is named `n<i>`: the names stream info reports as leader and replicas. Its ports are free when
 * chosen, but another test file may bind one before the server does: then the whole cluster starts again on
 * new ones.
 */
export async function startNatsCluster(size = 3, timeoutMs = 15_000): Promise<NatsCluster> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await startNatsClusterOnce(size, timeoutMs);
    } catch (err) {
      if (attempt >= 3 || !portTaken(err)) throw err;
    }
  }
}

async function startNatsClusterOnce(size: number, timeoutMs: number): Promise<NatsCluster> {
  const clusterPorts = await Promise.all(Array.from({ length: size }, () => freePort()));
  const monitorPorts = await Promise.all(Array.from({ length: size }, () => freePort()));
  const routes = clusterPorts.map((p) => `nats://127.0.0.1:${p}`).join(',');
  const started = await Promise.allSettled(
    clusterPorts.map((cp, i) =>
      startNatsServer({ startTimeoutMs: timeoutMs, args: ['-n', `n${i}`, '-m', String(monitorPorts[i]), '--cluster_name', 'actorflow-test', '-cluster', `nats://127.0.0.1:${cp}`, '-routes', routes] }),
    ),
  );
  const servers = started.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = started.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  const close = async () => {
    await Promise.all(servers.map((s) => s.close()));
  };
  if (failed) {
    await close();
    throw failed.reason;
  }
  const urls = servers.map((s) => s.url).join(',');
  try {
    await waitForJetStream(urls, timeoutMs);
  } catch (err) {
    await close();
    throw err;
  }
  return {
    servers,
    urls,
    byName: (name) => {
      const s = servers[Number(name.slice(1))];
      if (!name.startsWith('n') || s === undefined) throw new Error(`no server named ${name}`);
      return s;
    },
    metaLeader: async () => {
      const i = servers.findIndex((s) => s.running());
      const res = await fetch(`http://127.0.0.1:${monitorPorts[i]}/jsz`);
      const jsz = (await res.json()) as { meta_cluster?: { leader?: string } };
      const leader = jsz.meta_cluster?.leader;
      if (!leader) throw new Error('the NATS cluster has no JetStream meta leader');
      return leader;
    },
    close,
  };
}

/** Resolves once the JetStream API answers (the cluster elected its meta leader). */
async function waitForJetStream(urls: string, timeoutMs: number): Promise<void> {
  const nc = await connect({ servers: urls.split(','), waitOnFirstConnect: true });
  try {
    await pollUntil(
      async () => {
        try {
          const jsm = await jetstreamManager(nc, { timeout: 1000 });
          await jsm.getAccountInfo();
          return true;
        } catch {
          return undefined;
        }
      },
      'JetStream meta leader of the test NATS cluster',
      timeoutMs,
      100,
    );
  } finally {
    await nc.close();
  }
}
