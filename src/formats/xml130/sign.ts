/**
 * The facility's signature on an insurance document: enveloped XML-DSig (Reference URI="",
 * enveloped-signature + canonical XML 1.0 transforms, RSA-SHA256, SHA-256 digest, the signing
 * certificate in KeyInfo/X509Data) placed inside CHUKYDONVI, with xml-crypto. The key and
 * certificate come from the facility's PKCS#12 file (node-forge reads it).
 * Source: docs/national-formats.md §1.1 — the profile (enveloped, URI="", SHA-256) is what
 * practitioners report the gateway accepts [U]; no official signature profile was found.
 *
 * Rules: sign only what validated (claims.ts checks first); keys are never logged.
 */
import { createPrivateKey, type KeyObject } from 'node:crypto';
import forge from 'node-forge';
import { SignedXml } from 'xml-crypto';

export interface FacilityKey {
  /** PEM private key. */
  key: string;
  /** PEM certificate. */
  cert: string;
}

/** A facility key ready to sign with: the parsed private key and the KeyInfo content, made once per key. */
const prepared = new WeakMap<FacilityKey, { key: KeyObject; keyInfo: string }>();
function prepare(k: FacilityKey) {
  let p = prepared.get(k);
  if (!p) {
    p = { key: createPrivateKey(k.key), keyInfo: `<X509Data><X509Certificate>${k.cert.replace(/-----[^-]+-----|\s/g, '')}</X509Certificate></X509Data>` };
    prepared.set(k, p);
  }
  return p;
}

const C14N = 'http://www.w3.org/TR/2001/REC-xml-c14n-20010315';
const ENVELOPED = 'http://www.w3.org/2000/09/xmldsig#enveloped-signature';

/** Reads a PKCS#12 (.p12/.pfx) file's first private key and its certificate. */
export function keyFromPkcs12(p12: Buffer, password: string): FacilityKey {
  const asn1 = forge.asn1.fromDer(forge.util.createBuffer(p12.toString('binary')));
  const pfx = forge.pkcs12.pkcs12FromAsn1(asn1, false, password);
  const keyBag =
    pfx.getBags({ bagType: forge.pki.oids.pkcs8ShroudedKeyBag })[forge.pki.oids.pkcs8ShroudedKeyBag]?.[0] ??
    pfx.getBags({ bagType: forge.pki.oids.keyBag })[forge.pki.oids.keyBag]?.[0];
  const certBag = pfx.getBags({ bagType: forge.pki.oids.certBag })[forge.pki.oids.certBag]?.[0];
  if (!keyBag?.key || !certBag?.cert) throw new Error('PKCS#12 file holds no private key and certificate');
  return { key: forge.pki.privateKeyToPem(keyBag.key), cert: forge.pki.certificateToPem(certBag.cert) };
}

/** Signs a document whose root holds an empty CHUKYDONVI element; returns the signed document. */
export function signDocument(xml: string, k: FacilityKey): string {
  const p = prepare(k);
  const sig = new SignedXml({
    privateKey: p.key,
    publicCert: k.cert,
    getKeyInfoContent: () => p.keyInfo,
    signatureAlgorithm: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
    canonicalizationAlgorithm: C14N,
  });
  sig.addReference({ xpath: '/*', transforms: [ENVELOPED, C14N], digestAlgorithm: 'http://www.w3.org/2001/04/xmlenc#sha256', isEmptyUri: true });
  // Our documents have no namespace on CHUKYDONVI: a plain path (a local-name() test costs ~5 ms per document).
  sig.computeSignature(xml, { location: { reference: '/*/CHUKYDONVI', action: 'append' } });
  return sig.getSignedXml();
}

/** Checks a signed document with its own embedded certificate (the independent check is xmlsec1, in the tests). */
export function verifyDocument(xml: string, cert: string): boolean {
  const sig = new SignedXml({ publicCert: cert });
  const node = /<(?:\w+:)?Signature[\s>][\s\S]*<\/(?:\w+:)?Signature>/.exec(xml)?.[0];
  if (!node) return false;
  sig.loadSignature(node);
  try {
    return sig.checkSignature(xml);
  } catch {
    return false;
  }
}
