/**
 * Ingest step 1a: from the bytes a device sent to a message, without touching the database.
 * A payload that is too large or not UTF-8 text was refused by the transport (broker.ts) and
 * arrives here only to be quarantined with its reason; anything else must be JSON matching the
 * payload schema of docs/devices.md (readings.ts), or it is rejected with the reasons.
 *
 * Rules: pure functions; every reason is Vietnamese first, English in brackets.
 */
import { payloadSchema, type Payload } from '../readings.ts';
import type { Job } from './queue.ts';

export type Parsed = { ok: true; msg: Payload } | { ok: false; status: 'rejected' | 'refused'; reasons: string[]; msgId?: string };

/** A message id as it may be kept in quarantine (text without NUL, at most 100 characters). */
export function storableMsgId(x: unknown): string | undefined {
  return typeof x === 'string' && x.length ? x.slice(0, 100).replace(/\u0000/g, '\uFFFD') : undefined;
}

export function parseMessage(job: Pick<Job<unknown>, 'payload' | 'refusal'>): Parsed {
  if (job.refusal) return { ok: false, status: 'refused', reasons: [job.refusal.reason] };
  let body: unknown;
  try {
    body = JSON.parse(job.payload);
  } catch {
    return { ok: false, status: 'rejected', reasons: ['Nội dung không phải JSON (payload is not JSON)'] };
  }
  const p = payloadSchema.safeParse(body);
  if (!p.success) {
    const issues = p.error.issues.map((x) => `${x.path.join('.') || 'message'} ${x.message}`).join('; ');
    return {
      ok: false,
      status: 'rejected',
      reasons: [`Sai định dạng tin nhắn (malformed message): ${issues}`],
      msgId: storableMsgId((body as { msgId?: unknown } | null)?.msgId),
    };
  }
  return { ok: true, msg: p.data };
}
