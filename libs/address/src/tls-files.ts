import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { createSecureContext } from 'node:tls';
import { describeSystemError } from './describe-system-error';
import { TlsFileError } from './errors';
import { normalizeAddress } from './normalize-address';

/** A server's certificate (chain) and private key, both PEM, checked to belong together. */
export interface ServerCredentials {
  cert: Buffer;
  key: Buffer;
  /** For the start-up log: the names the certificate is for and when it expires. */
  summary: string;
  /** True when the certificate's validity period has ended (clients will refuse it). */
  expired: boolean;
}

/**
 * Reads a server's PEM certificate and key and checks them the way TLS will use them, so
 * a wrong file is one sentence at start-up instead of a failure at every handshake.
 */
export async function loadServerCredentials(certFile: string, keyFile: string): Promise<ServerCredentials> {
  const cert = await readTlsFile(certFile, 'TLS certificate');
  const key = await readTlsFile(keyFile, 'TLS key');
  const leaf = parseCertificate(cert, certFile, 'a PEM certificate');
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(key);
  } catch (error) {
    throw new TlsFileError(`${keyFile} does not hold a usable PEM private key: ${describeSystemError(error)}`, { cause: error });
  }
  if (!leaf.checkPrivateKey(privateKey)) {
    throw new TlsFileError(`the key in ${keyFile} does not belong to the certificate in ${certFile}`);
  }
  try {
    createSecureContext({ cert, key });
  } catch (error) {
    throw new TlsFileError(`the certificate in ${certFile} cannot be used with the key in ${keyFile}: ${describeSystemError(error)}`, {
      cause: error,
    });
  }
  const validTo = new Date(leaf.validTo);
  // OpenSSL prints IPv6 SANs in full ('IP Address:0:0:0:0:0:0:0:1'); show them as users type them.
  const names =
    leaf.subjectAltName?.replace(/IP Address:([0-9A-Fa-f:.]+)/g, (_, ip: string) => `IP Address:${normalizeAddress(ip)}`) ??
    leaf.subject.replace(/\n/g, ', ');
  return { cert, key, summary: `certificate for ${names}, valid until ${validTo.toISOString()}`, expired: validTo.getTime() < Date.now() };
}

/** Reads a PEM file of one or more CA certificates for a client to trust. */
export async function loadCertificateAuthority(caFile: string): Promise<Buffer> {
  const ca = await readTlsFile(caFile, 'CA');
  parseCertificate(ca, caFile, 'a PEM CA certificate');
  return ca;
}

async function readTlsFile(file: string, what: string): Promise<Buffer> {
  try {
    return await readFile(file);
  } catch (error) {
    throw new TlsFileError(`cannot read the ${what} file ${file}: ${describeSystemError(error)}`, { cause: error });
  }
}

// X509Certificate reads the first certificate of a PEM file; a chain's leaf comes first.
function parseCertificate(pem: Buffer, file: string, what: string): X509Certificate {
  try {
    return new X509Certificate(pem);
  } catch (error) {
    throw new TlsFileError(`${file} does not hold ${what}: ${describeSystemError(error)}`, { cause: error });
  }
}
