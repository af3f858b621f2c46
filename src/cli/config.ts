/** @module cli/config — server settings from flags, then env vars, then defaults (API.md "Running the server"). */
import { parseArgs } from 'node:util';
import type { ServeConfig } from './serve.ts';

export class ConfigError extends Error {
  readonly code = 'invalid_config';
}

export function readServeConfig(argv: string[], env: NodeJS.ProcessEnv): ServeConfig {
  const { values } = parseArgs({
    args: argv,
    options: {
      host: { type: 'string' },
      port: { type: 'string' },
      'data-dir': { type: 'string' },
      sync: { type: 'string' },
      machines: { type: 'string' },
      'max-body': { type: 'string' },
      quiet: { type: 'boolean' },
      nats: { type: 'string' },
      'nats-prefix': { type: 'string' },
      'no-builtin-agents': { type: 'boolean' },
    },
    strict: true,
  });
  const port = Number(values.port ?? env.ACTORFLOW_PORT ?? 8080);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(`invalid port: ${values.port ?? env.ACTORFLOW_PORT}`);
  const sync = values.sync ?? env.ACTORFLOW_SYNC ?? 'full';
  if (sync !== 'full' && sync !== 'normal') throw new ConfigError(`ACTORFLOW_SYNC must be full or normal, not ${sync}`);
  const maxBody = Number(values['max-body'] ?? env.ACTORFLOW_MAX_BODY ?? 1_048_576);
  if (!Number.isInteger(maxBody) || maxBody < 1) throw new ConfigError('invalid max body');
  return {
    host: values.host ?? env.ACTORFLOW_HOST ?? '127.0.0.1',
    port,
    dataDir: values['data-dir'] ?? env.ACTORFLOW_DATA_DIR ?? './data',
    sync,
    machinesDir: values.machines ?? env.ACTORFLOW_MACHINES_DIR ?? './machines',
    maxBodyBytes: maxBody,
    quiet: values.quiet ?? false,
    ...(values.nats ?? env.NATS_URL ? { natsUrl: (values.nats ?? env.NATS_URL) as string } : {}),
    ...(values['nats-prefix'] ?? env.ACTORFLOW_NATS_PREFIX ? { natsPrefix: (values['nats-prefix'] ?? env.ACTORFLOW_NATS_PREFIX) as string } : {}),
    builtinAgents: !(values['no-builtin-agents'] ?? env.ACTORFLOW_NO_BUILTIN_AGENTS === '1'),
  };
}
