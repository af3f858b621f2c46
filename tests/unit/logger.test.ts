/** pino JSON logs: the Logger of src/common/logger.ts, and what `actorflow serve` writes to stderr. */
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readServeConfig } from '../../src/cli/config.ts';
import { createPinoLogger } from '../../src/common/logger.ts';
import { startServerProcess } from '../support/process.ts';

/** A pino destination that keeps every line. */
function sink() {
  const lines: string[] = [];
  return { lines, destination: { write: (s: string) => void lines.push(...s.split('\n').filter((l) => l !== '')) } };
}

describe('createPinoLogger', () => {
  it('writes one JSON object per line with level, ISO time, msg and the data fields', () => {
    const { lines, destination } = sink();
    const log = createPinoLogger({ destination });
    log.info('listening on http://127.0.0.1:1', { host: '127.0.0.1', port: 1 });
    log.warn('careful');
    log.error('broke', { err: 'boom' });
    expect(lines).toHaveLength(3);
    const [a, b, c] = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(a).toMatchObject({ level: 'info', msg: 'listening on http://127.0.0.1:1', host: '127.0.0.1', port: 1, pid: process.pid });
    expect(typeof a?.time).toBe('string');
    expect(new Date(a?.time as string).toISOString()).toBe(a?.time);
    expect(b).toMatchObject({ level: 'warn', msg: 'careful' });
    expect(c).toMatchObject({ level: 'error', msg: 'broke', err: 'boom' });
  });

  it('drops lines below its level', () => {
    const { lines, destination } = sink();
    const log = createPinoLogger({ level: 'warn', destination });
    log.debug?.('d');
    log.info('i');
    log.warn('w');
    expect(lines.map((l) => JSON.parse(l).msg)).toEqual(['w']);
    const all = sink();
    createPinoLogger({ level: 'debug', destination: all.destination }).debug?.('d', { n: 1 });
    expect(JSON.parse(all.lines[0] ?? '{}')).toMatchObject({ level: 'debug', msg: 'd', n: 1 });
  });
});

describe('log level configuration', () => {
  const base = ['--port', '0'];
  it('reads --log-level, then --quiet, then ACTORFLOW_LOG_LEVEL', () => {
    expect(readServeConfig(base, {}).logLevel).toBeUndefined();
    expect(readServeConfig(base, { ACTORFLOW_LOG_LEVEL: 'debug' }).logLevel).toBe('debug');
    expect(readServeConfig([...base, '--quiet'], { ACTORFLOW_LOG_LEVEL: 'debug' }).logLevel).toBeUndefined();
    expect(readServeConfig([...base, '--quiet', '--log-level', 'error'], {}).logLevel).toBe('error');
    expect(() => readServeConfig(base, { ACTORFLOW_LOG_LEVEL: 'loud' })).toThrow(/ACTORFLOW_LOG_LEVEL/);
  });

  it('reads the OTLP endpoint from the OpenTelemetry variables', () => {
    expect(readServeConfig(base, {}).otlpEndpoint).toBeUndefined();
    expect(readServeConfig(base, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' }).otlpEndpoint).toBe('http://collector:4318/v1/traces');
    expect(readServeConfig(base, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://b:9/traces' }).otlpEndpoint).toBe('http://b:9/traces');
    expect(readServeConfig([...base, '--otlp-endpoint', 'http://c:4318'], { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://b:9/traces' }).otlpEndpoint).toBe('http://c:4318/v1/traces');
    expect(() => readServeConfig(base, { OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' })).toThrow(/OTLP endpoint/);
  });
});

describe('actorflow serve stderr', () => {
  it('logs JSON lines (listening on … as a msg), never the generated admin key', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'actorflow-logs-'));
    await mkdir(join(dir, 'machines'));
    const server = await startServerProcess({ dataDir: join(dir, 'data'), machinesDir: join(dir, 'machines'), sync: 'normal', noAuth: false, extraArgs: ['--log-level', 'info'] });
    try {
      expect(await server.stop()).toBe(0);
      const lines = server.logs().split('\n').filter((l) => l.trim() !== '');
      const json = lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
      for (const j of json) {
        expect(['debug', 'info', 'warn', 'error']).toContain(j.level);
        expect(typeof j.time).toBe('string');
        expect(typeof j.msg).toBe('string');
      }
      const listening = json.find((j) => typeof j.msg === 'string' && j.msg.startsWith('listening on http://127.0.0.1:'));
      expect(listening).toMatchObject({ level: 'info' });
      // The generated admin key is never part of a log line (it is printed as plain text, here muted by --quiet).
      const key = (await readFile(join(dir, 'data', 'admin.key'), 'utf8')).trim();
      expect(key.length).toBeGreaterThan(20);
      expect(json.some((j) => JSON.stringify(j).includes(key))).toBe(false);
    } finally {
      await server.kill();
      await rm(dir, { recursive: true, force: true });
    }
  }, 30_000);
});
