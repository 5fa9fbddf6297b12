/**
 * Backup encryption: AES-256-GCM (node:crypto), authenticated. A backup file is
 *   "CAUYTEB1" (8 bytes) | IV (12 random bytes) | ciphertext | GCM tag (16 bytes)
 * with the magic as additional authenticated data. The key comes from configuration
 * (CAUYTE_BACKUP_KEY: 32 bytes as 64 hex digits or base64), never from the backup itself.
 * Decryption streams into a file and only reports success once the tag has verified: nothing is
 * restored from a backup that was changed, cut short or encrypted with another key.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, openSync, readSync, closeSync, statSync } from 'node:fs';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export const MAGIC = Buffer.from('CAUYTEB1');
const IV_BYTES = 12;
const TAG_BYTES = 16;

export class BackupKeyError extends Error {}

/** The 32-byte key from its configured text (64 hex digits or base64). */
export function parseBackupKey(text: string | undefined): Buffer {
  if (!text) throw new BackupKeyError('CAUYTE_BACKUP_KEY is not set: backups are always encrypted (32 bytes, as 64 hex digits or base64)');
  const t = text.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(t) ? Buffer.from(t, 'hex') : Buffer.from(t, 'base64');
  if (key.length !== 32) throw new BackupKeyError('CAUYTE_BACKUP_KEY must be 32 bytes (64 hex digits or base64 of 32 bytes)');
  return key;
}

/** Encrypts a plaintext stream into `out`. */
export async function encryptTo(plain: Readable, out: string, key: Buffer): Promise<void> {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(MAGIC);
  let headerSent = false;
  const framing = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      if (!headerSent) {
        headerSent = true;
        this.push(Buffer.concat([MAGIC, iv]));
      }
      cb(null, chunk);
    },
    flush(cb) {
      if (!headerSent) this.push(Buffer.concat([MAGIC, iv]));
      this.push(cipher.getAuthTag());
      cb();
    },
  });
  await pipeline(plain, cipher, framing, createWriteStream(out, { mode: 0o600 }));
}

/** Decrypts `file` into `out`; throws (and `out` must not be used) unless the tag verifies. */
export async function decryptTo(file: string, out: string, key: Buffer): Promise<void> {
  const size = statSync(file).size;
  if (size < MAGIC.length + IV_BYTES + TAG_BYTES) throw new BackupKeyError('not a Cầu Y Tế backup (too short)');
  const fd = openSync(file, 'r');
  const head = Buffer.alloc(MAGIC.length + IV_BYTES);
  const tag = Buffer.alloc(TAG_BYTES);
  try {
    readSync(fd, head, 0, head.length, 0);
    readSync(fd, tag, 0, TAG_BYTES, size - TAG_BYTES);
  } finally {
    closeSync(fd);
  }
  if (!head.subarray(0, MAGIC.length).equals(MAGIC)) throw new BackupKeyError('not a Cầu Y Tế backup (unknown format)');
  const decipher = createDecipheriv('aes-256-gcm', key, head.subarray(MAGIC.length));
  decipher.setAAD(MAGIC);
  decipher.setAuthTag(tag);
  try {
    await pipeline(createReadStream(file, { start: head.length, end: size - TAG_BYTES - 1 }), decipher, createWriteStream(out, { mode: 0o600 }));
  } catch (err) {
    if (/auth/i.test((err as Error).message))
      throw new BackupKeyError('the backup does not authenticate: wrong CAUYTE_BACKUP_KEY, or the file was changed or cut short');
    throw err;
  }
}
