/** @module cli/serve — the composition root: wires store, bus, built-in agents, engine and API. */
import { join } from 'node:path';
import { type ApiServer, createApiServer } from '../api/server.ts';
import type { StreamOptions } from '../api/stream-options.ts';
import { serveBuiltinAgents } from '../agents/builtin-agents.ts';
import { createMemoryBus } from '../bus/memory-bus.ts';
import { createNatsBus } from '../bus/nats/nats-bus.ts';
import { createEngine } from '../engine/create-engine.ts';
import type { Engine } from '../engine/types.ts';
import { createConsoleLogger, type Logger } from '../shared/logger.ts';
import { createSqliteStore } from '../store/sqlite-store.ts';

export interface ServeConfig {
  readonly host: string;
  readonly port: number;
  readonly dataDir: string;
  readonly sync: 'full' | 'normal';
  readonly machinesDir?: string;
  /** @default 1048576 */
  readonly maxBodyBytes?: number;
  readonly quiet?: boolean;
  readonly logger?: Logger;
  /** NATS server(s); unset = the in-process bus. */
  readonly natsUrl?: string;
  /** Subject prefix on NATS. @default 'actorflow' */
  readonly natsPrefix?: string;
  /** Run the built-in agents in this process. @default true */
  readonly builtinAgents?: boolean;
  /** WebSocket/SSE limits; defaults in src/api/stream-options.ts. */
  readonly streams?: Partial<StreamOptions>;
}

export interface Running {
  readonly url: string;
  readonly port: number;
  readonly engine: Engine;
  /** WebSocket hub counters (sockets, subscriptions, topics, slow consumers closed). */
  streamStats(): ReturnType<ApiServer['streamStats']>;
  close(): Promise<void>;
}

export const DEFAULT_MAX_BODY = 1_048_576;

export async function startActorflow(config: ServeConfig): Promise<Running> {
  const logger = config.logger ?? createConsoleLogger(config.quiet ?? false);
  const store = await createSqliteStore({ path: join(config.dataDir, 'actorflow.db'), sync: config.sync });
  const bus = config.natsUrl
    ? await createNatsBus({ servers: config.natsUrl, logger, ...(config.natsPrefix ? { prefix: config.natsPrefix } : {}) })
    : createMemoryBus();
  const agents = config.builtinAgents === false ? [] : serveBuiltinAgents(bus, config.natsUrl ? 64 : 10_000);
  const engine = await createEngine({ store, bus, logger, ...(config.machinesDir ? { machinesDir: config.machinesDir } : {}) });
  const api = await createApiServer({ engine, host: config.host, port: config.port, maxBodyBytes: config.maxBodyBytes ?? DEFAULT_MAX_BODY, logger, streams: config.streams });
  const url = `http://${config.host}:${api.port}`;
  let closing: Promise<void> | undefined;
  return {
    url,
    port: api.port,
    engine,
    streamStats: () => api.streamStats(),
    close: () =>
      (closing ??= (async () => {
        await api.close();
        await engine.close();
        for (const a of agents) await a.close();
        await bus.close();
        await store.close();
      })()),
  };
}
