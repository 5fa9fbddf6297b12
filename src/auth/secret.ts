/**
 * The server secret: keys the audit chain's HMAC and encrypts stored secrets (TOTP seeds, signing
 * keys). It comes from CAUYTE_SECRET_KEY; only the embedded single-machine default may generate
 * one into its data folder (mode 0600) so that `npm start` needs no setup.
 */
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export class ServerSecret {
  private readonly encKey: Buffer;
  private readonly macKey: Buffer;

  constructor(secret: string) {
    if (secret.length < 32) throw new Error('CAUYTE_SECRET_KEY must be at least 32 characters');
    const ikm = Buffer.from(secret, 'utf8');
    this.encKey = Buffer.from(hkdfSync('sha256', ikm, 'cauyte', 'encryption', 32));
    this.macKey = Buffer.from(hkdfSync('sha256', ikm, 'cauyte', 'audit-chain', 32));
  }

  /** AES-256-GCM; output is base64url(iv | tag | ciphertext). */
  encrypt(plain: string): string {
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.encKey, iv);
    const body = Buffer.concat([c.update(plain, 'utf8'), c.final()]);
    return Buffer.concat([iv, c.getAuthTag(), body]).toString('base64url');
  }

  decrypt(sealed: string): string {
    const raw = Buffer.from(sealed, 'base64url');
    const d = createDecipheriv('aes-256-gcm', this.encKey, raw.subarray(0, 12));
    d.setAuthTag(raw.subarray(12, 28));
    return Buffer.concat([d.update(raw.subarray(28)), d.final()]).toString('utf8');
  }

  hmac(data: string): string {
    return createHmac('sha256', this.macKey).update(data).digest('hex');
  }
}

export function loadServerSecret(opts: { env?: string; dataDir: string; embedded: boolean }): ServerSecret {
  if (opts.env) return new ServerSecret(opts.env);
  if (!opts.embedded) {
    throw new Error('CAUYTE_SECRET_KEY is required with DATABASE_URL (at least 32 random characters, e.g. `openssl rand -base64 48`).');
  }
  const file = join(opts.dataDir, 'secret.key');
  if (!existsSync(file)) {
    mkdirSync(opts.dataDir, { recursive: true });
    writeFileSync(file, randomBytes(48).toString('base64url'), { mode: 0o600, flag: 'wx' });
  }
  return new ServerSecret(readFileSync(file, 'utf8').trim());
}
