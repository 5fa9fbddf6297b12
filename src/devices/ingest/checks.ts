/**
 * Ingest step 1b, inside the batch's unit of work: for each parsed message, is the device known,
 * active and (through an external broker) holding the right token; whose reading is it (a home
 * device's own patient, or the patient a shared station device names, who must be registered at
 * that station); is the time real; which readings are possible. Impossible readings go to
 * quarantine with their reasons; the possible ones of the same message are kept.
 *
 * Rules: device and patient lookups go through the batch's system repository (credentials.ts,
 * patients.ts); nothing is written here. The outcome of every message is decided here except
 * "duplicate" (commit.ts) and an Observation failing R4 validation (observations.ts).
 */
import type { Observation } from '@medplum/fhirtypes';
import type { Repository } from '../../fhir/repository.ts';
import type { IngestReply } from '../contract.ts';
import type { DeviceDirectory } from '../credentials.ts';
import { tokenMatches } from '../credentials.ts';
import { checkReading, checkTime, type Measured } from '../readings.ts';
import type { Parsed } from './parse.ts';
import type { PatientDirectory } from './patients.ts';
import type { Job } from './queue.ts';
import type { Limits } from '../alerts.ts';

export interface CheckedReading {
  observation: Omit<Observation, 'subject' | 'effectiveDateTime' | 'device'>;
  measured: Measured;
}

/** A message whose readings are to be stored (unless it is a duplicate). */
export interface Accepted {
  /** Its place in the batch (for the answer). */
  i: number;
  deviceId: string;
  msgId: string;
  patientId: string;
  organizationId?: string;
  limits: Limits;
  /** The measurement time, normalised to UTC. */
  time: string;
  readings: CheckedReading[];
  /** Problems with some of its readings (the others are stored). */
  problems: string[];
}

export interface QuarantineEntry {
  deviceId: string;
  msgId?: string;
  reasons: string[];
  payload: string;
}

export interface CheckedBatch {
  replies: IngestReply[];
  quarantine: QuarantineEntry[];
  accepted: Accepted[];
  /** Devices refused (unknown, revoked, wrong token) → why, audited after commit. */
  refused: Map<string, { reason: string; known: boolean }>;
}

const KEEP_PAYLOAD = 20_000;

/** Keys of a message whose values are credentials (the device token sent through an external broker). */
const CREDENTIAL_KEY = /token|secret|password|passwd/i;

/** Where a credential may begin in text that is not JSON: its key (however quoted), or an escape that could spell one. */
const CREDENTIAL_START = /token|secret|passw(or)?d|\\u/i;

/**
 * A message as quarantine keeps it, to be read by staff later: its first KEEP_PAYLOAD characters
 * with every credential's value replaced (the device's token must not live on in plain text — only
 * its hash is stored anywhere). JSON is rewritten without them; text that is not JSON is kept only
 * up to where a credential could begin (a key however quoted, or a \u escape), the rest withheld —
 * enough to see why it did not parse, never the token.
 */
export function keptPayload(raw: string): string {
  const blank = '[đã ẩn]';
  try {
    const scrub = (v: unknown): unknown =>
      Array.isArray(v)
        ? v.map(scrub)
        : v && typeof v === 'object'
          ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, CREDENTIAL_KEY.test(k) ? blank : scrub(x)]))
          : v;
    return JSON.stringify(scrub(JSON.parse(raw))).slice(0, KEEP_PAYLOAD);
  } catch {
    const cut = raw.search(CREDENTIAL_START);
    const kept = raw.slice(0, Math.min(cut < 0 ? raw.length : cut, KEEP_PAYLOAD));
    return kept.length < raw.length ? `${kept}…[đã ẩn ${raw.length - kept.length} ký tự]` : kept;
  }
}

const REFUSAL_TEXT = {
  'unknown device': 'Thiết bị chưa đăng ký (unknown device)',
  revoked: 'Thiết bị đã bị thu hồi (device revoked)',
  'wrong token': 'Sai mã thiết bị (wrong device token)',
} as const;

export async function checkMessages(
  tx: Repository,
  jobs: Job<IngestReply>[],
  parsed: Parsed[],
  deps: { devices: DeviceDirectory; patients: PatientDirectory },
): Promise<CheckedBatch> {
  const out: CheckedBatch = { replies: new Array(jobs.length), quarantine: [], accepted: [], refused: new Map() };
  for (const [i, job] of jobs.entries()) {
    const p = parsed[i];
    const keep = job.refusal ? '' : keptPayload(job.payload);
    const reject = (reasons: string[], msgId?: string, status: IngestReply['status'] = 'rejected') => {
      out.replies[i] = { ...(msgId ? { msgId } : {}), status, reasons };
      out.quarantine.push({ deviceId: job.deviceId, msgId, reasons, payload: keep });
    };
    if (!p.ok) {
      reject(p.reasons, p.msgId, p.status);
      continue;
    }
    const msg = p.msg;
    const info = await deps.devices.lookup(job.deviceId, tx);
    const why = !info
      ? 'unknown device'
      : info.revoked
        ? 'revoked'
        : job.requireToken && !(msg.token && tokenMatches(info.tokenHash, msg.token))
          ? 'wrong token'
          : undefined;
    if (why) {
      reject([REFUSAL_TEXT[why]], msg.msgId, 'refused');
      out.refused.set(job.deviceId, { reason: why, known: !!info });
      continue;
    }
    const bound = info!.device.patient?.reference?.split('/')[1];
    let patientId = bound;
    if (!bound) {
      const station = info!.device.owner?.reference?.split('/')[1];
      if (!msg.patient) {
        reject(['Thiết bị dùng chung phải ghi người bệnh trong tin nhắn (a shared device must name the patient)'], msg.msgId);
        continue;
      }
      if (!station || !(await deps.patients.registeredAt(tx, msg.patient, station))) {
        reject([`Người bệnh ${msg.patient} không được quản lý tại trạm của thiết bị (patient not registered at the device's station)`], msg.msgId);
        continue;
      }
      patientId = msg.patient;
    } else if (msg.patient && msg.patient !== bound) {
      reject(['Thiết bị cá nhân chỉ gửi số đo của người bệnh được gắn (a personal device reports for its own patient only)'], msg.msgId);
      continue;
    }
    const timeProblem = checkTime(msg.time);
    if (timeProblem) {
      reject([timeProblem], msg.msgId);
      continue;
    }
    const context = await deps.patients.context(tx, patientId!);
    if (!context.exists) {
      reject([`Không có hồ sơ người bệnh ${patientId} (no such patient record)`], msg.msgId);
      continue;
    }
    const good: CheckedReading[] = [];
    const problems: string[] = [];
    for (const r of msg.readings) {
      const c = checkReading(r);
      if ('problems' in c) problems.push(...c.problems);
      else good.push(c);
    }
    if (problems.length) out.quarantine.push({ deviceId: job.deviceId, msgId: msg.msgId, reasons: problems, payload: keep });
    if (!good.length) {
      out.replies[i] = { msgId: msg.msgId, status: 'rejected', reasons: problems };
      continue;
    }
    out.replies[i] = { msgId: msg.msgId, status: 'accepted', observations: good.length, ...(problems.length ? { reasons: problems } : {}) };
    out.accepted.push({
      i,
      deviceId: job.deviceId,
      msgId: msg.msgId,
      patientId: patientId!,
      organizationId: context.organizationId,
      limits: context.limits,
      time: new Date(msg.time).toISOString(),
      readings: good,
      problems,
    });
  }
  return out;
}
