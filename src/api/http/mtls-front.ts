/**
 * @module api/http/mtls-front — the listener when client certificates are required (mTLS).
 *
 * uWS's SSLApp takes a CA file (`ca_file_name`) but only asks for a client certificate: its
 * uSockets sets SSL_VERIFY_PEER without SSL_VERIFY_FAIL_IF_NO_PEER_CERT, so a client presenting
 * none completes the handshake, and the fork offers no way to see the peer certificate from JS
 * (measured on 20.30.0-unofficial.0). Node's TLS server can refuse such a handshake, so under mTLS
 * it owns the public port and pipes each verified connection to the plain uWS app, which listens on
 * a Unix socket in a fresh owner-only (0700) directory that no other user can reach.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { type Socket, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type TLSSocket, createServer } from 'node:tls';
import uWS, { type TemplatedApp, type us_listen_socket } from 'uWebSockets.js';
import type { TlsMaterial } from './tls-files.ts';

export interface MtlsFront {
  readonly port: number;
  /** Stops accepting, ends every connection, removes the socket directory. */
  close(): void;
}

/** Listens on `host:port` (exclusively: a busy port is an error) and serves `app` to clients with a certificate signed by `tls.ca`. */
export async function listenMtls(app: TemplatedApp, host: string, port: number, tls: TlsMaterial & { readonly ca: string }): Promise<MtlsFront> {
  const dir = mkdtempSync(join(tmpdir(), 'actorflow-mtls-'));
  const path = join(dir, 'api.sock');
  const inner = await new Promise<us_listen_socket | false>((resolve) => app.listen_unix((s) => resolve(s), path)).catch(() => false as const);
  if (inner === false) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`cannot listen on the Unix socket ${path} of the mTLS listener`);
  }
  const open = new Set<Socket>();
  const track = (s: Socket): void => {
    open.add(s);
    s.once('close', () => open.delete(s));
  };
  const server = createServer({ cert: tls.cert, key: tls.key, ca: tls.ca, requestCert: true, rejectUnauthorized: true }, (client: TLSSocket) => {
    const upstream = connect(path);
    track(client);
    track(upstream);
    client.setNoDelay(true);
    // Either side failing ends both: a half-open pair would hold the client forever.
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.pipe(upstream).pipe(client);
  });
  // A refused handshake (no or foreign certificate, plain HTTP) only ends that connection.
  server.on('tlsClientError', (_err, socket) => socket.destroy());
  const cleanup = (): void => {
    server.close();
    for (const s of open) s.destroy();
    uWS.us_listen_socket_close(inner);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host, port, exclusive: true }, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    cleanup();
    throw err;
  }
  const address = server.address();
  return { port: typeof address === 'object' && address !== null ? address.port : port, close: cleanup };
}
