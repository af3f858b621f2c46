/** @module cli/commands/server — `actorflow serve` (the API server) and `actorflow agent` (built-in agents over NATS): processes that keep running. */
import type { Command } from './spec.ts';

// The server and agent modules load lazily, so client commands start fast.

/** `actorflow serve`: runs until SIGTERM/SIGINT, which drain (stop accepting, commit, snapshot, exit 0). */
export const serveCommand: Command = {
  name: 'serve',
  summary: 'run the API server (the default command)',
  details: 'Flags override the ACTORFLOW_* variables named after them (ACTORFLOW_HOST, ACTORFLOW_PORT, ACTORFLOW_DATA_DIR, …; NATS_URL for --nats).',
  local: true,
  // config.ts parses these (with the env vars); listed here for help.
  rawArgs: true,
  flags: {
    host: { type: 'string', arg: 'HOST', help: 'bind address (default 127.0.0.1)' },
    port: { type: 'string', arg: 'PORT', help: 'HTTP/WS port, 0 = any free port (default 8080)' },
    'data-dir': { type: 'string', arg: 'DIR', help: 'SQLite files and admin.key (default ./data)' },
    sync: { type: 'string', arg: 'full|normal', help: 'full: fsync every group commit before acks (default); normal: process-crash safe only' },
    machines: { type: 'string', arg: 'DIR', help: 'code-first machines and flow documents loaded at boot (default ./machines)' },
    nats: { type: 'string', arg: 'URL', help: 'NATS server(s), comma-separated (default: in-process bus)' },
    'nats-prefix': { type: 'string', arg: 'P', help: 'subject prefix on NATS' },
    cluster: { type: 'boolean', help: 'run as one node of a cluster on the --nats servers (README, Running a cluster)' },
    'node-id': { type: 'string', arg: 'ID', help: "this node's id in the cluster (with --cluster)" },
    'no-auth': { type: 'boolean', help: 'development only: every request is admin of tenant default' },
    'rate-limit': { type: 'string', arg: 'RPS:BURST', help: 'default per-credential limit, 0 = off (default 2000:4000)' },
    'max-body': { type: 'string', arg: 'BYTES', help: 'request body limit (default 1048576)' },
    'cors-origins': { type: 'string', arg: 'O,O', help: 'allowed browser origins' },
    'reuse-port': { type: 'boolean', help: 'share the port with another process (refused by default)' },
    'tls-cert': { type: 'string', arg: 'FILE', help: 'PEM certificate: serve HTTPS and WSS (with --tls-key)' },
    'tls-key': { type: 'string', arg: 'FILE', help: 'PEM private key of --tls-cert' },
    'tls-ca': { type: 'string', arg: 'FILE', help: 'PEM CA: require client certificates it signed (mTLS)' },
    'no-builtin-agents': { type: 'boolean', help: 'do not run the built-in agents in process' },
    'otlp-endpoint': { type: 'string', arg: 'URL', help: 'OTLP/HTTP endpoint for traces' },
    'log-level': { type: 'string', arg: 'L', help: 'debug|info|warn|error (default info)' },
    quiet: { type: 'boolean', help: 'warnings and errors only' },
  },
  async run(c) {
    const { readServeConfig } = await import('../config.ts');
    const { startActorflow } = await import('../serve.ts');
    const config = readServeConfig([...c.argv], process.env);
    const starting = startActorflow(config);
    // Signals are handled from the start: the "listening on" log line is written while startActorflow
    // is still running, and a SIGTERM right after it must drain, not kill the process.
    let stopping = false;
    const stop = () => {
      if (stopping) return;
      stopping = true;
      starting
        .then((running) => running.close())
        .then(
          () => process.exit(0),
          (err: unknown) => {
            process.stderr.write(`shutdown failed: ${String(err)}\n`);
            process.exit(1);
          },
        );
    };
    process.on('SIGTERM', stop);
    process.on('SIGINT', stop);
    const running = await starting;
    // The log line says it already unless --quiet silenced info lines; the address is always shown once.
    const level = config.logLevel ?? (config.quiet === true ? 'warn' : 'info');
    if (level !== 'info' && level !== 'debug') process.stderr.write(`listening on ${running.url}\n`);
    return null;
  },
};

/** `actorflow agent`: the built-in agents (or some of them) out of process, over NATS. */
export const agentCommand: Command = {
  name: 'agent',
  summary: 'run the built-in agents out of process, over NATS',
  local: true,
  flags: {
    nats: { type: 'string', arg: 'URL', help: 'NATS server (default $NATS_URL, else nats://127.0.0.1:4222)' },
    kinds: { type: 'string', arg: 'K,K', help: 'built-in agents to serve: echo, log, sleep, http, fail (default all)' },
    concurrency: { type: 'string', arg: 'N', help: 'tasks in flight at once (default 64)' },
    name: { type: 'string', arg: 'NAME', help: 'agent name shown by `actorflow agents`' },
    prefix: { type: 'string', arg: 'P', help: 'subject prefix (default $ACTORFLOW_NATS_PREFIX)' },
    'ack-wait-ms': { type: 'string', arg: 'MS', help: 'how long the server waits for an ack before redelivering' },
  },
  async run(c) {
    const { BUILTIN_AGENTS, BUILTIN_DEFINITIONS } = await import('../../agents/builtin-agents.ts');
    const { createAgent } = await import('../../agents/create-agent.ts');
    const natsUrl = c.str('nats') ?? process.env['NATS_URL'] ?? 'nats://127.0.0.1:4222';
    const kinds = (c.str('kinds') ?? Object.keys(BUILTIN_AGENTS).join(',')).split(',').filter((k) => k in BUILTIN_AGENTS);
    if (kinds.length === 0) throw new Error(`--kinds must name built-in agents: ${Object.keys(BUILTIN_AGENTS).join(', ')}`);
    const prefix = c.str('prefix') ?? process.env['ACTORFLOW_NATS_PREFIX'];
    const ackWaitMs = c.int('ack-wait-ms', 1);
    const name = c.str('name');
    const a = await createAgent({
      natsUrl,
      // With the descriptions the in-process built-ins declare.
      kinds: Object.fromEntries(kinds.map((k) => [k, BUILTIN_DEFINITIONS[k] ?? {}])),
      concurrency: c.int('concurrency', 1) ?? 64,
      handler: (ctx) => {
        const h = BUILTIN_AGENTS[ctx.kind];
        if (!h) throw new Error(`no built-in agent ${ctx.kind}`);
        return h(ctx);
      },
      handleSignals: true,
      ...(ackWaitMs === undefined ? {} : { ackWaitMs }),
      ...(name === undefined ? {} : { name }),
      ...(prefix ? { prefix } : {}),
    });
    process.stderr.write(`agent ${a.id} serving ${kinds.join(', ')} on ${natsUrl}\n`);
    return null;
  },
};

