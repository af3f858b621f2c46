/** @module api/http/uws-runtime — whether uWebSockets.js loaded its native binary or its pure-JS fallback, which cannot serve actorflow. */
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, sep } from 'node:path';
import 'uWebSockets.js';

// Only the shared module cache is read through it (never a resolve relative to this file: under vitest's
// module runner `import.meta.url` may be a root-relative path, from which nothing resolves).
const moduleCache = createRequire(import.meta.url).cache;

/** The uWS fork loads `dist/index.js` (its fallback) when `binaries/uws_<platform>_<arch>_<ABI>.node` is missing or UWS_USE_FALLBACK is set. */
export class UwsFallbackError extends Error {
  readonly code = 'uws_fallback';
}

/** `process.versions.modules` of Node majors, for a message a person can act on. */
const NODE_OF_ABI: Record<string, string> = { '93': '16', '108': '18', '115': '20', '127': '22', '137': '24', '141': '25' };

export interface UwsRuntime {
  /** True when the fork's pure-JS fallback was loaded instead of a native binary. */
  readonly fallback: boolean;
  /** The binary this process would need, e.g. `uws_linux_x64_127.node`. */
  readonly binary: string;
  /** Node ABI versions (`process.versions.modules`) the installed fork has binaries for on this platform. */
  readonly abis: readonly string[];
}

export function uwsRuntime(): UwsRuntime {
  // The fork's entry (`<root>/src/uws.js`) is in the module cache since the import above; its root is found from there.
  const loaded = Object.keys(moduleCache);
  const entry = loaded.find((k) => k.endsWith(`${sep}src${sep}uws.js`));
  const root = entry === undefined ? undefined : dirname(dirname(entry));
  const prefix = `uws_${process.platform}_${process.arch}_`;
  let abis: string[] = [];
  try {
    if (root !== undefined) abis = readdirSync(`${root}${sep}binaries`)
      .filter((f) => f.startsWith(prefix) && f.endsWith('.node'))
      .map((f) => f.slice(prefix.length, -'.node'.length))
      .sort((a, b) => Number(a) - Number(b));
  } catch {
    // no binaries/ folder: every platform falls back
  }
  // The module cache tells what uws.js really did (binary missing, failing to load, or the env flag).
  const fallback = root !== undefined && loaded.includes(`${root}${sep}dist${sep}index.js`);
  return { fallback, binary: `${prefix}${process.versions.modules}.node`, abis };
}

/**
 * Measured on Node 22 and 24: the fork's fallback cannot report the port it listens on and answers
 * 500 to every route (its getQuery() builds a URL from a relative path), so serving would only fail
 * later and less clearly. Logs one warning and throws when the fallback is in use.
 */
export function assertNativeUws(log: { warn(msg: string, data?: Record<string, unknown>): void }): void {
  const rt = uwsRuntime();
  if (!rt.fallback) return;
  const forced = /^(1|true)$/i.test(process.env['UWS_USE_FALLBACK'] ?? '');
  const message = forced
    ? 'UWS_USE_FALLBACK is set: uWebSockets.js loaded its pure-JS fallback, which cannot serve actorflow; unset it'
    : `uWebSockets.js has no native binary for Node ${process.version} (${rt.binary}); its binaries are for Node ` +
      `${rt.abis.map((abi) => NODE_OF_ABI[abi] ?? `ABI ${abi}`).join(', ') || 'no version'} and its pure-JS fallback cannot serve actorflow: run the server on one of those`;
  log.warn(message, { binary: rt.binary, abis: rt.abis, node: process.version });
  throw new UwsFallbackError(message);
}
