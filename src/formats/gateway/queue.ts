/**
 * The sending queue to the BHXH gateway: each due visit is checked in (XML0), then sent (the
 * GIAMDINHHS envelope); the gateway's transaction code (maGiaoDich) and reception time are kept on
 * the queue row and, as an identifier, on the visit's Encounter (or, for the hub's part of a case
 * conference, on the case's Task).
 *
 * Rules: a pass takes due rows one at a time and first moves its next attempt forward (a lease),
 * so two nodes never send the same row at once; a network failure (Transient) is retried with a
 * doubling delay (30 s … 1 h) up to MAX_ATTEMPTS, then `failed`; a refusal (any maKetQua other
 * than success: unsigned 123, bad signature 125, duplicate, …) is `rejected` with its code and
 * message, never retried by itself. A row already checked in is not checked in again. Runs as the
 * platform (system repository, component `formats`), audited with its reason.
 */
import type { Encounter, Task } from '@medplum/fhirtypes';
import type { FhirStore } from '../../fhir/store.ts';
import type { CredentialStore } from '../credentials.ts';
import { BHXH_TRANSACTION_SYSTEM } from '../model.ts';
import { GATEWAY_OK, GatewayRefused, Transient, type BhxhGateway, type GatewayReply } from './bhxh.ts';

export const MAX_ATTEMPTS = 12;
export const LEASE_SECONDS = 120;

export function retryDelaySeconds(attempts: number): number {
  return Math.min(3600, 30 * 2 ** Math.max(0, attempts - 1));
}

interface Due {
  visit_key: string;
  facility_code: string;
  encounter_id: string;
  record_type: 'Encounter' | 'Task';
  status: 'queued' | 'checked-in';
  attempts: number;
  check_in_xml: string;
  envelope_xml: string;
}

export interface PassResult {
  sent: number;
  retried: number;
  rejected: number;
  failed: number;
}

/** A pass of a sending queue: claim one due row at a time (a lease only one node wins) until none is due. */
export async function drainDue<R>(claim: () => Promise<R | undefined>, attempt: (row: R) => Promise<keyof PassResult>): Promise<PassResult> {
  const out: PassResult = { sent: 0, retried: 0, rejected: 0, failed: 0 };
  for (let row = await claim(); row; row = await claim()) out[await attempt(row)]++;
  return out;
}

/** After a failed attempt that may succeed later: retry with a doubling delay, or give up after MAX_ATTEMPTS. */
export async function retryOrFail(
  set: (cols: string, params: unknown[]) => Promise<unknown>,
  attempts: number,
  e: unknown,
  now: Date,
): Promise<'retried' | 'failed'> {
  const msg = e instanceof Transient ? e.message : `error: ${(e as Error).message}`;
  if (attempts >= MAX_ATTEMPTS) {
    await set(`status = 'failed', attempts = $2, last_error = $3`, [attempts, msg]);
    return 'failed';
  }
  const next = new Date(now.getTime() + retryDelaySeconds(attempts) * 1000).toISOString();
  await set(`attempts = $2, last_error = $3, next_attempt_at = $4::timestamptz`, [attempts, msg, next]);
  return 'retried';
}

export class ClaimQueue {
  private running: Promise<PassResult> | undefined;

  constructor(
    private readonly store: FhirStore,
    private readonly gateway: BhxhGateway | undefined,
    private readonly credentials: CredentialStore,
  ) {}

  /** One pass over the rows due at `now` (tests pass a later clock instead of waiting). */
  runOnce(now = new Date()): Promise<PassResult> {
    this.running ??= this.pass(now).finally(() => (this.running = undefined));
    return this.running;
  }

  private async pass(now: Date): Promise<PassResult> {
    if (!this.gateway) return { sent: 0, retried: 0, rejected: 0, failed: 0 };
    const sql = this.store.system('insurance claim sending', 'formats').sql;
    // Take one due row by moving its next attempt past the lease (only one node wins the UPDATE).
    const claim = async () =>
      (
        await sql.query<Due>(
          `UPDATE claim_submission SET next_attempt_at = $1::timestamptz + interval '${LEASE_SECONDS} seconds', updated_at = now()
         WHERE visit_key = (SELECT visit_key FROM claim_submission WHERE status IN ('queued', 'checked-in') AND next_attempt_at <= $1::timestamptz
                            ORDER BY next_attempt_at LIMIT 1)
           AND next_attempt_at <= $1::timestamptz
         RETURNING visit_key, facility_code, encounter_id, record_type, status, attempts, check_in_xml, envelope_xml`,
          [now.toISOString()],
        )
      ).rows[0];
    return drainDue(claim, (row) => this.attempt(row, now));
  }

  private async attempt(row: Due, now: Date): Promise<keyof PassResult> {
    const sql = this.store.system('insurance claim sending', 'formats').sql;
    const account = this.credentials.bhxh(row.facility_code);
    const set = (cols: string, params: unknown[]) =>
      sql.query(`UPDATE claim_submission SET ${cols}, updated_at = now() WHERE visit_key = $1`, [row.visit_key, ...params]);
    if (!account) {
      await set(`status = 'failed', last_error = $2`, ['no gateway account configured for this facility']);
      return 'failed';
    }
    try {
      if (row.status === 'queued') {
        const c = await this.gateway!.checkIn(account, row.facility_code, row.check_in_xml);
        if (c.maKetQua !== GATEWAY_OK) throw new GatewayRefused(c);
        await set(`status = 'checked-in', check_in_code = $2`, [c.maGiaoDich ?? null]);
      }
      const s = await this.gateway!.send(account, row.facility_code, row.envelope_xml);
      if (s.maKetQua !== GATEWAY_OK) throw new GatewayRefused(s);
      await this.sent(row, s);
      return 'sent';
    } catch (e) {
      if (e instanceof GatewayRefused) {
        await set(`status = 'rejected', result_code = $2, last_error = $3, attempts = attempts + 1`, [e.reply.maKetQua, e.reply.thongDiep ?? e.message]);
        return 'rejected';
      }
      return retryOrFail(set, row.attempts + 1, e, now);
    }
  }

  /** Success: the transaction code on the row and on the visit's Encounter, in one unit of work. */
  private async sent(row: Due, reply: GatewayReply): Promise<void> {
    await this.store.system('insurance claim sent: transaction code kept', 'formats').transaction(async (tx) => {
      await tx.sql.query(
        `UPDATE claim_submission SET status = 'sent', transaction_code = $2, received_at = $3, result_code = $4, last_error = NULL, attempts = attempts + 1, updated_at = now() WHERE visit_key = $1`,
        [row.visit_key, reply.maGiaoDich ?? null, reply.thoiGianTiepNhan ?? null, reply.maKetQua],
      );
      // The visit's Encounter, or a case conference's Task (the hub's part of a consult).
      const rec = await tx.read<Encounter | Task>(row.record_type ?? 'Encounter', row.encounter_id);
      if (reply.maGiaoDich && !rec.identifier?.some((i) => i.system === BHXH_TRANSACTION_SYSTEM))
        await tx.update<Encounter | Task>({ ...rec, identifier: [...(rec.identifier ?? []), { system: BHXH_TRANSACTION_SYSTEM, value: reply.maGiaoDich }] });
    });
  }
}
