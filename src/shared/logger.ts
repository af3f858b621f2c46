/** @module logger — a minimal structured logger interface; injected, never a singleton. */
export interface Logger {
  info(msg: string, data?: Record<string, unknown>): void;
  warn(msg: string, data?: Record<string, unknown>): void;
  error(msg: string, data?: Record<string, unknown>): void;
}

export function createConsoleLogger(quiet = false): Logger {
  const line = (level: string, msg: string, data?: Record<string, unknown>) => {
    if (quiet && level === 'info') return;
    process.stderr.write(JSON.stringify({ level, time: new Date().toISOString(), msg, ...data }) + '\n');
  };
  return {
    info: (m, d) => line('info', m, d),
    warn: (m, d) => line('warn', m, d),
    error: (m, d) => line('error', m, d),
  };
}
