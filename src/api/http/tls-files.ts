/**
 * @module api/http/tls-files — the PEM files of the HTTPS listener, read and checked before the server
 * starts: a missing file, a file that is no certificate or key, or a key of another certificate is
 * a TlsConfigError naming the file, never a failed handshake later.
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';

/** Where the listener's certificate material is (`ACTORFLOW_TLS_CERT`, `ACTORFLOW_TLS_KEY`, `ACTORFLOW_TLS_CA`). */
export interface TlsFiles {
  /** PEM certificate chain of the server (its certificate first). */
  readonly certFile: string;
  /** PEM private key of that certificate (unencrypted). */
  readonly keyFile: string;
  /** PEM CA certificate(s): clients must then present a certificate signed by one of them (mTLS). */
  readonly caFile?: string | undefined;
}

/** The files with their contents, checked. */
export interface TlsMaterial extends TlsFiles {
  readonly cert: string;
  readonly key: string;
  readonly ca?: string | undefined;
}

export class TlsConfigError extends Error {
  readonly code = 'invalid_tls_config';
}

function readPem(what: string, file: string): string {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new TlsConfigError(`cannot read the TLS ${what} file ${file}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  if (!text.includes('-----BEGIN ')) throw new TlsConfigError(`the TLS ${what} file ${file} is not PEM (no -----BEGIN line)`);
  return text;
}

function parsed<T>(what: string, file: string, parse: () => T): T {
  try {
    return parse();
  } catch (err) {
    throw new TlsConfigError(`the TLS ${what} file ${file} does not hold a usable ${what}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

/** Reads and checks the files (synchronously: once, at startup). */
export function readTlsFiles(files: TlsFiles): TlsMaterial {
  const cert = readPem('certificate', files.certFile);
  const key = readPem('key', files.keyFile);
  const ca = files.caFile === undefined ? undefined : readPem('CA', files.caFile);
  const x509 = parsed('certificate', files.certFile, () => new X509Certificate(cert));
  const privateKey = parsed('key', files.keyFile, () => createPrivateKey(key));
  if (!x509.checkPrivateKey(privateKey)) throw new TlsConfigError(`the TLS key ${files.keyFile} is not the key of the certificate ${files.certFile}`);
  if (ca !== undefined) parsed('CA', files.caFile as string, () => new X509Certificate(ca));
  return { ...files, cert, key, ca };
}
