/**
 * Ingest step 3, the write: in the batch's one transaction (a system repository, reason "device
 * ingest"), keep the quarantined readings with their reasons, claim each (device, message id)
 * once — the first copy wins, within the batch and across batches — write the fresh messages'
 * Observations with createMany (validated, references checked, indexed, one audit entry), apply
 * them to the patients' alert episodes (Flags, in-app notifications) and record the unit as
 * "device.ingest". Everything commits together, and only then is any message answered.
 *
 * Rules: domain tables only through tx.sql; FHIR only through tx. Text stored as text never holds
 * NUL. If createMany refuses an Observation the whole attempt is thrown away (InvalidBatch) and
 * the batch runs again strict: each Observation validated first, the invalid ones quarantined.
 */
import type { Observation } from '@medplum/fhirtypes';
import type { Repository } from '../../fhir/repository.ts';
import { FhirError } from '../../fhir/outcome.ts';
import { addNotification } from '../../events/outbox.ts';
import { applyReading, evaluate, loadOpenEpisodes, saveTouched, type AlertChange } from '../alerts.ts';
import type { IngestReply } from '../contract.ts';
import { keptPayload, type Accepted, type CheckedBatch, type QuarantineEntry } from './checks.ts';
import { buildObservations, invalidReasons } from './observations.ts';

/** createMany refused the batch's Observations: run it again strict. */
export class InvalidBatch extends Error {
  constructor(
    readonly invalid: FhirError,
    /** The patients of the attempt (their cached records are read again in the strict run). */
    readonly patients: string[],
  ) {
    super(`An Observation of the batch is not valid: ${invalid.message}`);
  }
}

export interface CommitResult {
  replies: IngestReply[];
  changes: AlertChange[];
  /** Messages whose Observations were stored now (not duplicates). */
  stored: Accepted[];
  observations: number;
  quarantined: number;
  invalid: number;
  /** The device of each quarantined message, and the invalid readings per device (for the per-facility counters). */
  quarantinedDevices: string[];
  invalidBy: Map<string, number>;
}

const text = (s: string) => s.replace(/\u0000/g, '\uFFFD');

export async function commitBatch(
  tx: Repository,
  batch: CheckedBatch,
  payloads: string[],
  strict: boolean,
  /** Called once this batch's messages are claimed: the next batch may claim its own. */
  claimed: () => void = () => {},
): Promise<CommitResult> {
  const { replies, quarantine } = batch;
  let invalid = 0;
  const invalidBy = new Map<string, number>();
  const built = new Map<Accepted, Observation[]>();
  let accepted = batch.accepted;
  if (strict) {
    accepted = [];
    for (const a of batch.accepted) {
      const keep = validOnly(a, (o) => invalidReasons(o));
      invalid += a.readings.length - keep.readings.length;
      if (a.readings.length > keep.readings.length) invalidBy.set(a.deviceId, (invalidBy.get(a.deviceId) ?? 0) + a.readings.length - keep.readings.length);
      if (keep.reasons.length) quarantine.push({ deviceId: a.deviceId, msgId: a.msgId, reasons: keep.reasons, payload: keptPayload(payloads[a.i]) });
      const reasons = [...a.problems, ...keep.reasons];
      if (!keep.readings.length) {
        replies[a.i] = { msgId: a.msgId, status: 'rejected', reasons };
        continue;
      }
      const b = { ...a, readings: keep.readings, problems: reasons };
      replies[a.i] = { msgId: a.msgId, status: 'accepted', observations: keep.observations.length, ...(reasons.length ? { reasons } : {}) };
      built.set(b, keep.observations);
      accepted.push(b);
    }
  } else for (const a of accepted) built.set(a, buildObservations(a));

  await keepQuarantine(tx, quarantine);
  const fresh = await claim(tx, accepted);
  claimed();
  const stored: Accepted[] = [];
  const observations: Observation[] = [];
  for (const a of accepted) {
    if (!fresh.has(`${a.deviceId}\u0000${a.msgId}`)) {
      replies[a.i] = { msgId: a.msgId, status: 'duplicate', observations: 0 };
      continue;
    }
    fresh.delete(`${a.deviceId}\u0000${a.msgId}`); // a second copy in the same batch is a duplicate
    stored.push(a);
    observations.push(...built.get(a)!);
  }
  try {
    await tx.createMany(observations);
  } catch (err) {
    if (err instanceof FhirError && !strict) throw new InvalidBatch(err, [...new Set(stored.map((a) => a.patientId))]);
    throw err;
  }
  const changes = await applyToEpisodes(tx, stored);
  if (stored.length) {
    await tx.record({
      action: 'device.ingest',
      resourceType: 'Observation',
      detail: { messages: stored.length, observations: observations.length, devices: [...new Set(stored.map((a) => a.deviceId))].slice(0, 50) },
    });
  }
  return {
    replies,
    changes,
    stored,
    observations: observations.length,
    quarantined: quarantine.length,
    invalid,
    quarantinedDevices: quarantine.map((q) => q.deviceId),
    invalidBy,
  };
}

/** The readings of a message whose Observations are valid R4, and the reasons for the others. */
function validOnly(a: Accepted, check: (o: Observation) => string[]): { readings: Accepted['readings']; observations: Observation[]; reasons: string[] } {
  const obs = buildObservations(a);
  const out = { readings: [] as Accepted['readings'], observations: [] as Observation[], reasons: [] as string[] };
  obs.forEach((o, n) => {
    const why = check(o);
    if (why.length) out.reasons.push(...why.filter((w) => !out.reasons.includes(w)));
    else {
      out.readings.push(a.readings[n]);
      out.observations.push(o);
    }
  });
  return out;
}

async function keepQuarantine(tx: Repository, q: QuarantineEntry[]): Promise<void> {
  if (!q.length) return;
  await tx.sql.query(
    'INSERT INTO device_quarantine (device_id, message_id, reasons, payload) SELECT d, m, string_to_array(r, chr(31)), p FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS x(d, m, r, p)',
    [
      q.map((x) => text(x.deviceId.slice(0, 64))),
      q.map((x) => (x.msgId ? text(x.msgId) : null)),
      q.map((x) => x.reasons.map((r) => text(r).replace(/\u001f/g, ' ')).join('\u001f')),
      q.map((x) => text(x.payload)),
    ],
  );
}

/**
 * Exactly once: the first copy of (device, message id) wins. Claimed in key order, so two
 * batches holding copies of the same messages wait for each other, never deadlock.
 */
async function claim(tx: Repository, accepted: Accepted[]): Promise<Set<string>> {
  if (!accepted.length) return new Set();
  const r = await tx.sql.query<{ device_id: string; message_id: string }>(
    'INSERT INTO device_message (device_id, message_id) SELECT d, m FROM unnest($1::text[], $2::text[]) AS x(d, m) ORDER BY d, m ON CONFLICT DO NOTHING RETURNING device_id, message_id',
    [accepted.map((a) => a.deviceId), accepted.map((a) => a.msgId)],
  );
  return new Set(r.rows.map((x) => `${x.device_id}\u0000${x.message_id}`));
}

/** The stored readings, in time order, against each patient's open episodes. */
async function applyToEpisodes(tx: Repository, stored: Accepted[]): Promise<AlertChange[]> {
  const measured = stored.flatMap((a) => a.readings.map((r) => ({ a, m: r.measured }))).sort((x, y) => x.a.time.localeCompare(y.a.time));
  if (!measured.length) return [];
  const patients = [...new Set(measured.map((x) => x.a.patientId))];
  // Two batches for one patient take turns from here to commit (episodes open once, in order);
  // one global order of the locks, so two batches never wait for each other in a circle.
  await tx.sql.query("SELECT pg_advisory_xact_lock(k) FROM (SELECT DISTINCT hashtext('alert-episode:' || p) AS k FROM unnest($1::text[]) AS p ORDER BY 1) s", [
    patients,
  ]);
  const open = await loadOpenEpisodes(tx.sql, patients);
  const out: AlertChange[] = [];
  for (const { a, m } of measured) {
    const change = await applyReading(tx, open, {
      patientId: a.patientId,
      organizationId: a.organizationId,
      measured: m,
      at: a.time,
      breach: evaluate(m, a.limits),
    });
    if (change) out.push(change);
  }
  await saveTouched(tx.sql, open);
  for (const c of out) {
    if ((c.kind === 'opened' || c.kind === 'worse') && c.organizationId)
      await addNotification(tx.sql, { organizationId: c.organizationId }, 'alert', `Cảnh báo: ${c.text}`, '/alerts');
  }
  return out;
}
