/** @module tests/support/tls-certs — a throwaway CA with server and client certificates, made by the `openssl` binary in a temp dir. */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A certificate and its key: file names and PEM texts. */
export interface Pem {
  readonly certFile: string;
  readonly keyFile: string;
  readonly cert: string;
  readonly key: string;
}

export interface TestCerts {
  readonly dir: string;
  /** The CA that signed `server` and `client`. */
  readonly ca: Pem;
  /** For 127.0.0.1 and localhost. */
  readonly server: Pem;
  readonly client: Pem;
  /** A client certificate of another, self-signed CA. */
  readonly stranger: Pem;
  remove(): Promise<void>;
}

// P-256 keys: generated in milliseconds, unlike RSA.
const NEW_KEY = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

function pem(dir: string, name: string): Pem {
  const certFile = join(dir, `${name}.pem`);
  const keyFile = join(dir, `${name}.key`);
  return { certFile, keyFile, cert: readFileSync(certFile, 'utf8'), key: readFileSync(keyFile, 'utf8') };
}

async function selfSigned(dir: string, name: string): Promise<Pem> {
  await run('openssl', ['req', '-x509', ...NEW_KEY, '-keyout', join(dir, `${name}.key`), '-out', join(dir, `${name}.pem`), '-days', '2', '-subj', `/CN=${name}`]);
  return pem(dir, name);
}

async function signedBy(dir: string, ca: Pem, name: string, extensions: string): Promise<Pem> {
  const csr = join(dir, `${name}.csr`);
  const ext = join(dir, `${name}.ext`);
  await writeFile(ext, extensions);
  await run('openssl', ['req', ...NEW_KEY, '-keyout', join(dir, `${name}.key`), '-out', csr, '-subj', `/CN=${name}`]);
  await run('openssl', ['x509', '-req', '-in', csr, '-CA', ca.certFile, '-CAkey', ca.keyFile, '-set_serial', String(Date.now()), '-out', join(dir, `${name}.pem`), '-days', '2', '-extfile', ext]);
  return pem(dir, name);
}

/** Makes the CA and certificates (a few hundred ms); `remove()` deletes them. */
export async function makeTestCerts(): Promise<TestCerts> {
  const dir = await mkdtemp(join(tmpdir(), 'actorflow-certs-'));
  const [ca, strangerCa] = await Promise.all([selfSigned(dir, 'ca'), selfSigned(dir, 'stranger-ca')]);
  const [server, client, stranger] = await Promise.all([
    signedBy(dir, ca, 'server', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n'),
    signedBy(dir, ca, 'client', 'extendedKeyUsage=clientAuth\n'),
    signedBy(dir, strangerCa, 'stranger', 'extendedKeyUsage=clientAuth\n'),
  ]);
  return { dir, ca, server, client, stranger, remove: () => rm(dir, { recursive: true, force: true }) };
}
