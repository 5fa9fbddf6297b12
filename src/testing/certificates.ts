/**
 * A facility signing certificate for tests and benchmarks: an RSA-2048 key, a self-signed X.509
 * certificate (node-forge) and the PKCS#12 file a facility would configure, plus the PEM files an
 * independent verifier (xmlsec1) reads.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import forge from 'node-forge';

export interface TestCertificate {
  key: string;
  cert: string;
  p12: Buffer;
  password: string;
  /** Folder holding cert.pem and facility.p12. */
  dir: string;
  certPath: string;
  p12Path: string;
}

export function makeFacilityCertificate(commonName = 'Trạm Y tế xã Bát Xát (test)'): TestCertificate {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const key = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const fKey = forge.pki.privateKeyFromPem(key);
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }).toString());
  cert.serialNumber = '01' + forge.util.bytesToHex(forge.random.getBytesSync(8));
  cert.validity.notBefore = new Date(Date.now() - 86_400_000);
  cert.validity.notAfter = new Date(Date.now() + 365 * 86_400_000);
  const attrs = [
    { name: 'commonName', value: forge.util.encodeUtf8(commonName) },
    { name: 'countryName', value: 'VN' },
  ];
  cert.setSubject(attrs);
  cert.setIssuer(attrs);
  cert.sign(fKey, forge.md.sha256.create());
  const certPem = forge.pki.certificateToPem(cert);
  const password = 'test-p12-password';
  const p12 = Buffer.from(forge.asn1.toDer(forge.pkcs12.toPkcs12Asn1(fKey, [cert], password, { algorithm: '3des' })).getBytes(), 'binary');
  const dir = mkdtempSync(join(tmpdir(), 'cauyte-cert-'));
  const certPath = join(dir, 'cert.pem');
  const p12Path = join(dir, 'facility.p12');
  writeFileSync(certPath, certPem);
  writeFileSync(p12Path, p12);
  return { key, cert: certPem, p12, password, dir, certPath, p12Path };
}
