/**
 * E-prescriptions to the national system: every issued prescription is queued in the same
 * transaction that writes it (a write listener: a created MedicationRequest carrying a
 * prescription code), and a queue sends each once, keeping the answer.
 *
 * Rules: one row per prescription code (the key); a network failure is retried with a doubling
 * delay (the claim queue's), a refusal is kept and not retried; the payload is read from the record
 * at sending time by the platform (system repository, audited with its reason). Without a gateway
 * or an account for the facility the rows wait (status stays `queued`, with the reason).
 */
import type { MedicationRequest } from '@medplum/fhirtypes';
import type { DomainWriteListener } from '../../fhir/store.ts';
import type { FhirStore } from '../../fhir/store.ts';
import type { CredentialStore } from '../credentials.ts';
import { drainDue, LEASE_SECONDS, retryOrFail, type PassResult } from '../gateway/queue.ts';
import type { EPrescriptionGateway } from './gateway.ts';
import { eprescriptionPayload } from './payload.ts';

const PRESCRIPTION_SYSTEM = 'https://fhir.cauyte.vn/sid/prescription-code';
const CODE = /^([A-Z0-9]{5})[a-z0-9]{7}-([cnhy])$/;

/** Queues a prescription when its first item is created (same transaction). */
export const eprescriptionOnWrite: DomainWriteListener = async (sql, e) => {
  if (e.resourceType !== 'MedicationRequest' || e.method !== 'POST' || e.deleted || !e.resource) return;
  const m = e.resource as MedicationRequest;
  const code = m.groupIdentifier?.system === PRESCRIPTION_SYSTEM ? m.groupIdentifier.value : undefined;
  const parts = code ? CODE.exec(code) : null;
  const encounterId = m.encounter?.reference?.split('/')[1];
  const patientId = m.subject?.reference?.split('/')[1];
  if (!parts || !encounterId || !patientId) return;
  await sql.query(
    `INSERT INTO eprescription_submission (code, kind, facility_code, encounter_id, patient_id, status) VALUES ($1, $2, $3, $4, $5, 'queued') ON CONFLICT (code) DO NOTHING`,
    [code, parts[2], parts[1], encounterId, patientId],
  );
};

interface Due {
  code: string;
  facility_code: string;
  encounter_id: string;
  attempts: number;
}

export interface EPrescriptionStatus {
  code: string;
  kind: string;
  status: 'queued' | 'sent' | 'rejected' | 'failed';
  attempts: number;
  result?: string;
  lastError?: string;
}

export class EPrescriptionQueue {
  private running: Promise<PassResult> | undefined;

  constructor(
    private readonly store: FhirStore,
    private readonly gateway: EPrescriptionGateway | undefined,
    private readonly credentials: CredentialStore,
  ) {}

  async status(code: string): Promise<EPrescriptionStatus | undefined> {
    const r = await this.store.system('e-prescription status', 'formats').sql.query<{
      code: string;
      kind: string;
      status: EPrescriptionStatus['status'];
      attempts: number;
      result: string | null;
      last_error: string | null;
    }>('SELECT code, kind, status, attempts, result, last_error FROM eprescription_submission WHERE code = $1', [code]);
    const x = r.rows[0];
    return x
      ? {
          code: x.code,
          kind: x.kind,
          status: x.status,
          attempts: x.attempts,
          ...(x.result ? { result: x.result } : {}),
          ...(x.last_error ? { lastError: x.last_error } : {}),
        }
      : undefined;
  }

  runOnce(now = new Date()): Promise<PassResult> {
    this.running ??= this.pass(now).finally(() => (this.running = undefined));
    return this.running;
  }

  private async pass(now: Date): Promise<PassResult> {
    if (!this.gateway) return { sent: 0, retried: 0, rejected: 0, failed: 0 };
    const sql = this.store.system('e-prescription sending', 'formats').sql;
    const claim = async () =>
      (
        await sql.query<Due>(
          `UPDATE eprescription_submission SET next_attempt_at = $1::timestamptz + interval '${LEASE_SECONDS} seconds', updated_at = now()
         WHERE code = (SELECT code FROM eprescription_submission WHERE status = 'queued' AND next_attempt_at <= $1::timestamptz ORDER BY next_attempt_at LIMIT 1)
           AND next_attempt_at <= $1::timestamptz
         RETURNING code, facility_code, encounter_id, attempts`,
          [now.toISOString()],
        )
      ).rows[0];
    return drainDue(claim, (row) => this.attempt(row, now));
  }

  private async attempt(row: Due, now: Date): Promise<keyof PassResult> {
    const repo = this.store.system('e-prescription sending', 'formats');
    const set = (cols: string, params: unknown[]) =>
      repo.sql.query(`UPDATE eprescription_submission SET ${cols}, updated_at = now() WHERE code = $1`, [row.code, ...params]);
    const account = this.credentials.eprescription(row.facility_code);
    const attempts = row.attempts + 1;
    if (!account) {
      // Waits for an account: tried again later, without counting towards failure.
      await set(`last_error = $2, next_attempt_at = $3::timestamptz`, [
        'no e-prescription account configured for this facility',
        new Date(now.getTime() + 3_600_000).toISOString(),
      ]);
      return 'retried';
    }
    try {
      const payload = await repo.transaction((tx) => eprescriptionPayload(tx, row.code, row.encounter_id));
      const reply = await this.gateway!.send(account, payload);
      if (reply.accepted) {
        await set(`status = 'sent', attempts = $2, result = $3, last_error = NULL`, [attempts, `${reply.status}${reply.message ? ` ${reply.message}` : ''}`]);
        return 'sent';
      }
      await set(`status = 'rejected', attempts = $2, result = $3, last_error = $4`, [attempts, String(reply.status), reply.message ?? 'refused']);
      return 'rejected';
    } catch (e) {
      return retryOrFail(set, attempts, e, now);
    }
  }
}
