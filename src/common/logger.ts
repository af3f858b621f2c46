/** @module logger — a minimal structured logger interface (injected, never a singleton) and its pino implementation. */
import { pino, type DestinationStream } from 'pino';

export interface Logger {
  debug?(msg: string, data?: Record<string, unknown>): void;
  info(msg: string, data?: Record<string, unknown>): void;
  warn(msg: string, data?: Record<string, unknown>): void;
  error(msg: string, data?: Record<string, unknown>): void;
}

export type LogLevelName = 'debug' | 'info' | 'warn' | 'error' | 'silent';

export const LOG_LEVELS: readonly LogLevelName[] = ['debug', 'info', 'warn', 'error', 'silent'];

export const isLogLevel = (v: unknown): v is LogLevelName => typeof v === 'string' && (LOG_LEVELS as readonly string[]).includes(v);

export interface PinoLoggerOptions {
  /** @default 'info' */
  readonly level?: LogLevelName;
  /** Where JSON lines go. @default stderr, written synchronously (nothing is lost on `process.exit`) */
  readonly destination?: DestinationStream;
  /** Fields on every line (e.g. `{ component: 'agent' }`). */
  readonly base?: Record<string, unknown>;
}

/**
 * JSON lines `{"level":"info","time":"…","pid":…,"msg":"…",…data}` via pino. The destination is
 * synchronous: a log line right before `process.exit` (SIGTERM drain) is never lost, and lines
 * stay ordered with the plain-text lines the CLI writes to the same stderr.
 */
export function createPinoLogger(o: PinoLoggerOptions = {}): Logger {
  const p = pino(
    {
      level: o.level ?? 'info',
      base: { pid: process.pid, ...o.base },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    o.destination ?? pino.destination({ dest: 2, sync: true }),
  );
  // pino's argument order is (data, msg); a missing `data` must not become a `{}` allocation per line.
  return {
    debug: (m, d) => (d === undefined ? p.debug(m) : p.debug(d, m)),
    info: (m, d) => (d === undefined ? p.info(m) : p.info(d, m)),
    warn: (m, d) => (d === undefined ? p.warn(m) : p.warn(d, m)),
    error: (m, d) => (d === undefined ? p.error(m) : p.error(d, m)),
  };
}

/** The server's stderr logger: `quiet` (true) means warn and above; a level name sets it exactly. */
export function createConsoleLogger(quietOrLevel: boolean | LogLevelName = false): Logger {
  const level = typeof quietOrLevel === 'string' ? quietOrLevel : quietOrLevel ? 'warn' : 'info';
  return createPinoLogger({ level });
}
