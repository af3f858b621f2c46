/**
 * @module api/http/listener — the uWS app and its listening socket: plain HTTP, HTTPS with uWS's
 * SSLApp, or HTTPS with required client certificates (mTLS, api/http/mtls-front.ts).
 */
import uWS, { type TemplatedApp, type us_listen_socket, type us_socket } from 'uWebSockets.js';
import { listenMtls } from './mtls-front.ts';
import type { TlsMaterial } from './tls-files.ts';

/** uSockets listen options (the typings of the uWS fork lack the host + options form of listen). */
const LISTEN_DEFAULT = 0;
const LISTEN_EXCLUSIVE_PORT = 1;

export interface ListenOptions {
  readonly host: string;
  readonly port: number;
  /** Share the port (SO_REUSEPORT); not with mTLS (Node 20's TLS server cannot). */
  readonly reusePort: boolean;
  /** Serve HTTPS/WSS; with `ca`, only to clients presenting a certificate signed by it. */
  readonly tls?: TlsMaterial | undefined;
}

export interface Listening {
  readonly port: number;
  readonly scheme: 'http' | 'https';
  /** Stops accepting connections (open ones are ended by the app's close). */
  close(): void;
}

/** The app to mount routes on: an SSLApp for HTTPS without client certificates, else a plain one (mTLS terminates TLS in front of it). */
export function createApp(tls: TlsMaterial | undefined): TemplatedApp {
  if (tls === undefined || tls.ca !== undefined) return uWS.App();
  // The files were read and checked (api/http/tls-files.ts); uWS reads them again by name.
  return uWS.SSLApp({ cert_file_name: tls.certFile, key_file_name: tls.keyFile });
}

/** Listens with `app` (from createApp with the same `tls`); rejects with a message naming the address if it cannot be bound. */
export async function listen(app: TemplatedApp, opts: ListenOptions): Promise<Listening> {
  const busy = opts.reusePort ? '' : ' (already in use? stop the other process, choose another port, or set ACTORFLOW_REUSE_PORT=1 to share it on purpose)';
  const ca = opts.tls?.ca;
  if (opts.tls !== undefined && ca !== undefined) {
    if (opts.reusePort) throw new Error('ACTORFLOW_REUSE_PORT cannot be combined with ACTORFLOW_TLS_CA: the mTLS listener cannot share its port');
    const front = await listenMtls(app, opts.host, opts.port, { ...opts.tls, ca }).catch((err: unknown) => {
      const code = (err as { code?: unknown }).code;
      const why = code === 'EADDRINUSE' ? ' (already in use? stop the other process or choose another port)' : `: ${err instanceof Error ? err.message : String(err)}`;
      throw new Error(`cannot listen on ${opts.host}:${opts.port}${why}`, { cause: err });
    });
    return { port: front.port, scheme: 'https', close: () => front.close() };
  }
  const socket = await new Promise<us_listen_socket>((resolve, reject) => {
    // uWS shares ports by default: a second server on a busy port would silently get half the
    // connections (with other credentials, other data). Exclusive unless sharing was asked for.
    const listenWith = app.listen as unknown as (host: string, port: number, options: number, cb: (s: us_listen_socket | false) => void) => void;
    listenWith.call(app, opts.host, opts.port, opts.reusePort ? LISTEN_DEFAULT : LISTEN_EXCLUSIVE_PORT, (s) => {
      if (s !== false) return resolve(s);
      reject(new Error(`cannot listen on ${opts.host}:${opts.port}${busy}`));
    });
  });
  // A listen socket is a socket for uSockets; the typings keep the two apart.
  return { port: uWS.us_socket_local_port(socket as us_socket), scheme: opts.tls === undefined ? 'http' : 'https', close: () => uWS.us_listen_socket_close(socket) };
}
