/**
 * Signed clinical documents. Each signer has an Ed25519 key pair (made at their first signature;
 * the private key stored encrypted with the server secret). What is signed is the RFC 8785
 * canonical JSON of the document's clinical content — the resource without `meta`, `status` and
 * `attester`, which change as signatures are collected — so every co-signer signs the same bytes.
 * Each signature is a FHIR Provenance pointing at the exact version signed.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify } from 'node:crypto';
import canonicalize from 'canonicalize';
import type { Composition, Provenance } from '@medplum/fhirtypes';
import type { Queryable } from '../db/db.ts';
import type { ServerSecret } from '../auth/secret.ts';

export const SIGNATURE_TYPE = { system: 'urn:iso-astm:E1762-95:2013', code: '1.2.840.10065.1.12.1.1', display: "Author's Signature" };

/** The bytes a signature covers. */
export function signedPayload(doc: Composition): Buffer {
  const { meta: _m, status: _s, attester: _a, ...content } = doc as Composition & Record<string, unknown>;
  return Buffer.from(canonicalize(content) as string, 'utf8');
}

export async function signingKeyFor(
  q: Queryable,
  secret: ServerSecret,
  accountId: string,
  practitionerId: string | undefined,
): Promise<{ privateKey: string; publicKey: string }> {
  const existing = (
    await q.query<{ public_key: string; private_key: string }>('SELECT public_key, private_key FROM signing_identity WHERE account_id = $1', [accountId])
  ).rows[0];
  if (existing) return { publicKey: existing.public_key, privateKey: secret.decrypt(existing.private_key) };
  const { publicKey, privateKey } = generateKeyPairSync('ed25519', {
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  await q.query(
    'INSERT INTO signing_identity (account_id, practitioner_id, public_key, private_key) VALUES ($1, $2, $3, $4) ON CONFLICT (account_id) DO NOTHING',
    [accountId, practitionerId ?? null, publicKey, secret.encrypt(privateKey)],
  );
  return signingKeyFor(q, secret, accountId, practitionerId);
}

export function signDocument(doc: Composition, privateKeyPem: string): string {
  return sign(null, signedPayload(doc), createPrivateKey(privateKeyPem)).toString('base64');
}

export interface SignatureCheck {
  provenanceId: string;
  signer: string;
  signedAt?: string;
  valid: boolean;
  problem?: string;
}

/** Checks every signature Provenance of a document against the signer's public key. */
export async function verifySignatures(q: Queryable, doc: Composition, provenances: Provenance[]): Promise<SignatureCheck[]> {
  const out: SignatureCheck[] = [];
  for (const p of provenances) {
    const sig = p.signature?.[0];
    const signer = sig?.who?.reference ?? '?';
    const accountId = p.agent?.[0]?.onBehalfOf?.identifier?.value;
    const key = accountId
      ? (await q.query<{ public_key: string }>('SELECT public_key FROM signing_identity WHERE account_id = $1', [accountId])).rows[0]
      : undefined;
    if (!sig?.data || !key) {
      out.push({ provenanceId: p.id!, signer, signedAt: sig?.when, valid: false, problem: 'no signature data or unknown signer key' });
      continue;
    }
    let valid: boolean;
    try {
      valid = verify(null, signedPayload(doc), createPublicKey(key.public_key), Buffer.from(sig.data, 'base64'));
    } catch {
      valid = false;
    }
    out.push({
      provenanceId: p.id!,
      signer,
      signedAt: sig.when,
      valid,
      ...(valid ? {} : { problem: 'the signature does not match the document (changed after signing, or a forged signature)' }),
    });
  }
  return out;
}
