/**
 * Devices and ingest. A device is a FHIR Device bound to a patient (home device) or to a commune
 * station (shared; the patient is named in each message). It authenticates with its own token
 * (only a SHA-256 of it is stored; rotate and revoke). Messages are processed in batches: one
 * transaction stores the message ids (duplicates are stored once), the Observations (placed by their
 * own timestamps, so late uploads from an offline device land where they belong), quarantined
 * readings with reasons, alert episodes and one audit row — and only then is each message
 * acknowledged (MQTT PUBACK / HTTP answer), so nothing acknowledged is ever lost.
 */
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { CarePlan, Device, Goal, Observation, Patient, Resource } from '@medplum/fhirtypes';
import type { Queryable } from '../db/db.ts';
import type { AccessContext } from '../auth/actor.ts';
import { AccessDenied } from '../auth/access.ts';
import { actorFields } from '../auth/principal.ts';
import type { AuditLog } from '../audit/audit.ts';
import type { EventBus } from '../events/bus.ts';
import type { FhirService } from '../fhir/service.ts';
import { badRequest, notFound } from '../fhir/outcome.ts';
import { extractIndexRows } from '../fhir/searchparams.ts';
import { addNotification, enqueueMessage } from '../events/outbox.ts';
import { applyReading, evaluate, limitsFromGoals, loadOpenEpisodes, saveTouched, type AlertChange, type Limits } from './alerts.ts';
import { checkReading, checkTime, LOINC, payloadSchema, UCUM, type Measured, type Reading } from './readings.ts';

export const DEVICE_TYPES: Record<string, string> = {
  bp: 'Máy đo huyết áp',
  glucometer: 'Máy đo đường huyết',
  oximeter: 'Máy đo SpO2',
  thermometer: 'Nhiệt kế',
  scale: 'Cân',
  ecg: 'Miếng dán điện tim',
  multi: 'Máy đo đa chỉ số',
};
export const DEVICE_MESSAGE_SYSTEM = 'https://fhir.cauyte.vn/sid/device-message';

export interface IngestReply {
  msgId?: string;
  status: 'accepted' | 'duplicate' | 'rejected' | 'refused';
  observations?: number;
  reasons?: string[];
}

interface Job {
  deviceId: string;
  payload: string;
  /** External brokers are not trusted to authenticate: the payload carries the device token. */
  requireToken: boolean;
  resolve: (r: IngestReply) => void;
  reject: (e: Error) => void;
}

interface DeviceInfo {
  device: Device;
  revoked: boolean;
  tokenHash: string;
}

const sha = (s: string) => createHash('sha256').update(s).digest('hex');

/** How many ingest batches may be in progress at once. */
const BATCHES_AT_ONCE = 2;

export class DeviceService {
  private queue: Job[] = [];
  private timer?: NodeJS.Timeout;
  private running = 0;
  /** Settles when the latest started batch has answered its messages. */
  private answered: Promise<void> = Promise.resolve();
  private readonly devices = new Map<string, { info: DeviceInfo | undefined; at: number }>();
  private readonly limits = new Map<string, { limits: Limits; org?: string; at: number }>();
  /** Called when a device is revoked (the broker disconnects it). */
  onRevoke?: (deviceId: string) => void;
  /** Called after commit with each processed message's reply (the broker publishes it). */
  onReply?: (deviceId: string, reply: IngestReply) => void;

  constructor(
    private readonly fhir: FhirService,
    private readonly audit: AuditLog,
    private readonly bus: EventBus,
    readonly batchSize = 500,
    readonly batchDelayMs = 10,
    readonly escalateAfterMinutes = 15,
  ) {}

  // ------------------------------------------------------------ registration and credentials

  async register(ctx: AccessContext, input: { type: string; name: string; serial: string; patientId?: string; organizationId?: string }): Promise<{ device: Device; token: string }> {
    if (!DEVICE_TYPES[input.type]) throw badRequest(`Loại thiết bị phải là một trong: ${Object.keys(DEVICE_TYPES).join(', ')}`);
    if (!input.patientId === !input.organizationId) throw badRequest('Gắn thiết bị cho một người bệnh hoặc cho một trạm (bind to a patient or to a station, not both)');
    if (input.patientId) await this.fhir.read('Patient', input.patientId, undefined, ctx);
    if (input.organizationId && ctx.actor.via !== 'test' && input.organizationId !== ctx.actor.organizationId) throw new AccessDenied('Chỉ đăng ký thiết bị dùng chung cho cơ sở của mình (register shared devices for your own facility)');
    const token = randomBytes(32).toString('base64url');
    const device = await this.fhir.db.transaction(async (q) => {
      const d = (await this.fhir.repo.create(
        {
          resourceType: 'Device',
          status: 'active',
          identifier: [{ system: 'https://fhir.cauyte.vn/sid/device-serial', value: input.serial }],
          deviceName: [{ name: input.name, type: 'user-friendly-name' }],
          type: { coding: [{ system: 'https://fhir.cauyte.vn/CodeSystem/device-type', code: input.type, display: DEVICE_TYPES[input.type] }], text: DEVICE_TYPES[input.type] },
          ...(input.patientId ? { patient: { reference: `Patient/${input.patientId}` } } : {}),
          ...(input.organizationId ? { owner: { reference: `Organization/${input.organizationId}` } } : {}),
        } as Device,
        q,
      )) as Device;
      await q.query('INSERT INTO device_credential (device_id, token_hash) VALUES ($1, $2)', [d.id, sha(token)]);
      await this.record(q, ctx, 'device.register', d, input.patientId);
      return d;
    });
    return { device, token };
  }

  async rotate(ctx: AccessContext, deviceId: string): Promise<string> {
    const d = await this.manageable(ctx, deviceId);
    const token = randomBytes(32).toString('base64url');
    await this.fhir.db.transaction(async (q) => {
      await q.query('UPDATE device_credential SET token_hash = $2, created_at = now() WHERE device_id = $1 AND revoked_at IS NULL', [deviceId, sha(token)]);
      await this.record(q, ctx, 'device.rotate', d);
    });
    this.devices.delete(deviceId);
    this.onRevoke?.(deviceId); // its current connection used the old token
    return token;
  }

  async revoke(ctx: AccessContext, deviceId: string): Promise<void> {
    const d = await this.manageable(ctx, deviceId);
    await this.fhir.db.transaction(async (q) => {
      await q.query('UPDATE device_credential SET revoked_at = now() WHERE device_id = $1', [deviceId]);
      await this.fhir.repo.update({ ...d, status: 'inactive' }, {}, q);
      await this.record(q, ctx, 'device.revoke', d);
    });
    this.devices.delete(deviceId);
    this.onRevoke?.(deviceId);
    await this.bus.publish({ kind: 'device.revoked', to: {}, data: { deviceId } });
  }

  /** Staff of the station that owns the device, or anyone who may read the bound patient's record. */
  private async manageable(ctx: AccessContext, deviceId: string): Promise<Device> {
    const d = (await this.fhir.repo.tryRead<Device>('Device', deviceId)) as Device | undefined;
    if (!d) throw notFound(`Không có thiết bị ${deviceId} (no such device)`);
    if (ctx.actor.via === 'test') return d;
    if (d.owner?.reference === `Organization/${ctx.actor.organizationId}`) return d;
    const pid = d.patient?.reference?.split('/')[1];
    if (pid) {
      await this.fhir.read('Patient', pid, undefined, ctx);
      return d;
    }
    throw new AccessDenied('Thiết bị không thuộc cơ sở của bạn (not your facility’s device)');
  }

  async list(ctx: AccessContext): Promise<(Device & { revoked: boolean })[]> {
    const params = new URLSearchParams({ _count: '500', _sort: '-_lastUpdated' });
    const all = (await this.fhir.searchBundle('Device', params)).entry?.map((e) => e.resource as Device) ?? [];
    const revoked = new Set((await this.fhir.db.query<{ device_id: string }>('SELECT device_id FROM device_credential WHERE revoked_at IS NOT NULL')).rows.map((r) => r.device_id));
    const mine: Device[] = [];
    for (const d of all) {
      if (ctx.actor.via === 'test' || d.owner?.reference === `Organization/${ctx.actor.organizationId}`) mine.push(d);
      else if (d.patient?.reference) {
        const ok = await this.fhir.guard?.access.patientAccess(this.fhir.db, ctx.actor, d.patient.reference.split('/')[1]);
        if (!this.fhir.guard || ok?.allowed) mine.push(d);
      }
    }
    return mine.map((d) => ({ ...d, revoked: revoked.has(d.id!) }));
  }

  private async record(q: Queryable, ctx: AccessContext, action: string, d: Device, patientId?: string): Promise<void> {
    if (ctx.actor.via === 'test') return;
    await this.audit.append(q, { ...actorFields(ctx), action, outcome: 'success', resourceType: 'Device', resourceId: d.id, patientIds: patientId ? [patientId] : d.patient?.reference ? [d.patient.reference.split('/')[1]] : [] });
  }

  private async deviceInfo(deviceId: string): Promise<DeviceInfo | undefined> {
    const cached = this.devices.get(deviceId);
    if (cached && Date.now() - cached.at < 5000) return cached.info;
    const device = /^[A-Za-z0-9\-.]{1,64}$/.test(deviceId) ? ((await this.fhir.repo.tryRead<Device>('Device', deviceId)) as Device | undefined) : undefined;
    const cred = device ? (await this.fhir.db.query<{ token_hash: string; revoked_at: Date | null }>('SELECT token_hash, revoked_at FROM device_credential WHERE device_id = $1', [deviceId])).rows[0] : undefined;
    const info = device && cred ? { device, revoked: !!cred.revoked_at || device.status !== 'active', tokenHash: cred.token_hash } : undefined;
    this.devices.set(deviceId, { info, at: Date.now() });
    return info;
  }

  /** For the broker's CONNECT: the device exists, is active, and the token is right. */
  async authenticate(deviceId: string, token: string): Promise<boolean> {
    const info = await this.deviceInfo(deviceId);
    const ok = !!info && !info.revoked && tokenMatches(info.tokenHash, token);
    if (!ok) await this.audit.record({ username: `device:${deviceId.slice(0, 64)}`, action: 'device.connect', outcome: 'denied', resourceType: 'Device', resourceId: info ? deviceId : undefined, detail: { reason: !info ? 'unknown device' : info.revoked ? 'revoked' : 'wrong token' } });
    return ok;
  }

  // ------------------------------------------------------------ ingest

  /** Queues one message; resolves after its batch committed (then, and only then, acknowledge it). */
  ingest(deviceId: string, payload: string, requireToken: boolean): Promise<IngestReply> {
    return new Promise((resolve, reject) => {
      this.queue.push({ deviceId, payload, requireToken, resolve, reject });
      if (this.queue.length >= this.batchSize) this.schedule(0);
      else this.schedule(this.batchDelayMs);
    });
  }

  private schedule(delay: number): void {
    if (this.timer && delay > 0) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.pump();
    }, delay);
  }

  /**
   * Starts batches while fewer than BATCHES_AT_ONCE run: the next batch is parsed, checked and
   * inserted while the previous one commits. Batches touching the same patient take turns at
   * their alert episodes (advisory locks in process()).
   */
  private pump(): void {
    while (this.running < BATCHES_AT_ONCE && this.queue.length) {
      const jobs = this.queue.splice(0, this.batchSize);
      const earlier = this.answered;
      let answered!: () => void;
      this.answered = new Promise<void>((r) => (answered = r));
      this.running++;
      void this.process(jobs, earlier)
        .catch(async (err: Error) => {
          // Failed before its transaction (e.g. the database unreachable while checking devices):
          // every message of the batch is refused, in turn, so the devices send them again.
          await earlier;
          for (const j of jobs) j.reject(err);
        })
        .finally(() => {
          // Never ahead of the batch before: answers leave in arrival order whatever happened here.
          void earlier.then(answered);
          this.running--;
          if (this.queue.length) this.schedule(this.batchDelayMs);
        });
    }
  }

  private async limitsFor(q: Queryable, patientId: string): Promise<{ limits: Limits; org?: string }> {
    const c = this.limits.get(patientId);
    if (c && Date.now() - c.at < 60_000) return c;
    const goals = (await this.fhir.searchBundle('Goal', new URLSearchParams({ patient: `Patient/${patientId}`, 'lifecycle-status': 'active', _count: '50' }), q)).entry?.map((e) => e.resource as Goal) ?? [];
    const patient = (await this.fhir.repo.tryRead<Patient>('Patient', patientId, q)) as Patient | undefined;
    const entry = { limits: limitsFromGoals(goals), org: patient?.managingOrganization?.reference?.split('/')[1], at: Date.now() };
    this.limits.set(patientId, entry);
    return entry;
  }

  forgetLimits(patientId: string): void {
    this.limits.delete(patientId);
  }

  /** One batch. `earlier` settles when the batch before it has answered: answers go out in arrival order. */
  private async process(jobs: Job[], earlier: Promise<void>): Promise<void> {
    if (jobs.length === 0) return;
    const replies: IngestReply[] = new Array(jobs.length);
    const quarantine: { deviceId: string; msgId?: string; reasons: string[]; payload: string }[] = [];
    const accepted: { i: number; deviceId: string; msgId: string; patientId: string; time: string; readings: { observation: Omit<Observation, 'subject' | 'effectiveDateTime' | 'device'>; measured: Measured }[] }[] = [];
    const refusedDevices = new Set<string>();
    for (const [i, job] of jobs.entries()) {
      const reject = (reasons: string[], msgId?: string, status: IngestReply['status'] = 'rejected') => {
        replies[i] = { msgId, status, reasons };
        quarantine.push({ deviceId: job.deviceId, msgId, reasons, payload: job.payload.slice(0, 20_000) });
      };
      let body: unknown;
      try {
        body = JSON.parse(job.payload);
      } catch {
        reject(['Nội dung không phải JSON (payload is not JSON)']);
        continue;
      }
      const p = payloadSchema.safeParse(body);
      if (!p.success) {
        reject([`Sai định dạng tin nhắn (malformed message): ${p.error.issues.map((x) => `${x.path.join('.') || 'message'} ${x.message}`).join('; ')}`], (body as { msgId?: string })?.msgId);
        continue;
      }
      const msg = p.data;
      const info = await this.deviceInfo(job.deviceId);
      if (!info || info.revoked || (job.requireToken && !(msg.token && tokenMatches(info.tokenHash, msg.token)))) {
        reject([!info ? 'Thiết bị chưa đăng ký (unknown device)' : info.revoked ? 'Thiết bị đã bị thu hồi (device revoked)' : 'Sai mã thiết bị (wrong device token)'], msg.msgId, 'refused');
        refusedDevices.add(job.deviceId);
        continue;
      }
      const boundPatient = info.device.patient?.reference?.split('/')[1];
      let patientId = boundPatient;
      if (!boundPatient) {
        const station = info.device.owner?.reference?.split('/')[1];
        if (!msg.patient) {
          reject(['Thiết bị dùng chung phải ghi người bệnh trong tin nhắn (a shared device must name the patient)'], msg.msgId);
          continue;
        }
        const registered = await this.fhir.db.query('SELECT 1 FROM care_relationship WHERE patient_id = $1 AND organization_id = $2 LIMIT 1', [msg.patient, station ?? '']);
        if (!registered.rows.length) {
          reject([`Người bệnh ${msg.patient} không được quản lý tại trạm của thiết bị (patient not registered at the device's station)`], msg.msgId);
          continue;
        }
        patientId = msg.patient;
      } else if (msg.patient && msg.patient !== boundPatient) {
        reject(['Thiết bị cá nhân chỉ gửi số đo của người bệnh được gắn (a personal device reports for its own patient only)'], msg.msgId);
        continue;
      }
      const timeProblem = checkTime(msg.time);
      if (timeProblem) {
        reject([timeProblem], msg.msgId);
        continue;
      }
      const good: (typeof accepted)[number]['readings'] = [];
      const problems: string[] = [];
      for (const r of msg.readings) {
        const c = checkReading(r);
        if ('problems' in c) problems.push(...c.problems);
        else good.push(c);
      }
      if (problems.length) quarantine.push({ deviceId: job.deviceId, msgId: msg.msgId, reasons: problems, payload: job.payload.slice(0, 20_000) });
      if (!good.length) {
        replies[i] = { msgId: msg.msgId, status: 'rejected', reasons: problems };
        continue;
      }
      replies[i] = { msgId: msg.msgId, status: 'accepted', observations: good.length, ...(problems.length ? { reasons: problems } : {}) };
      accepted.push({ i, deviceId: job.deviceId, msgId: msg.msgId, patientId: patientId!, time: new Date(msg.time).toISOString(), readings: good });
    }

    let changes: AlertChange[] = [];
    try {
      changes = await this.fhir.db.transaction(async (q) => {
        if (quarantine.length) {
          await q.query('INSERT INTO device_quarantine (device_id, message_id, reasons, payload) SELECT d, m, string_to_array(r, chr(31)), p FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS x(d, m, r, p)', [
            quarantine.map((x) => x.deviceId.slice(0, 64)), quarantine.map((x) => x.msgId ?? null), quarantine.map((x) => x.reasons.join('\u001f')), quarantine.map((x) => x.payload),
          ]);
        }
        if (!accepted.length) return [];
        // Exactly once: the first copy of (device, message id) wins — within this batch and across batches.
        // Claimed in key order, so two batches holding copies of the same messages wait, never deadlock.
        const fresh = await q.query<{ device_id: string; message_id: string }>(
          'INSERT INTO device_message (device_id, message_id) SELECT d, m FROM unnest($1::text[], $2::text[]) AS x(d, m) ORDER BY d, m ON CONFLICT DO NOTHING RETURNING device_id, message_id',
          [accepted.map((a) => a.deviceId), accepted.map((a) => a.msgId)],
        );
        const unclaimed = new Set(fresh.rows.map((r) => `${r.device_id}\u0000${r.message_id}`));
        const now = new Date().toISOString();
        const prepared: { resource: Resource; rows: ReturnType<typeof extractIndexRows> }[] = [];
        const measured: { patientId: string; at: string; m: Measured }[] = [];
        for (const a of accepted) {
          const key = `${a.deviceId}\u0000${a.msgId}`;
          if (!unclaimed.delete(key)) {
            replies[a.i] = { msgId: a.msgId, status: 'duplicate', observations: 0 };
            continue;
          }
          a.readings.forEach((r, n) => {
            // Built by this module from checked readings (see readings.test.ts for their R4 validity).
            const obs = { ...r.observation, id: randomUUID(), meta: { versionId: '1', lastUpdated: now }, identifier: [{ system: DEVICE_MESSAGE_SYSTEM, value: `${a.deviceId}:${a.msgId}:${n}` }], subject: { reference: `Patient/${a.patientId}` }, effectiveDateTime: a.time, device: { reference: `Device/${a.deviceId}` } } as Observation;
            prepared.push({ resource: obs, rows: extractIndexRows(obs, this.fhir.registry.forType('Observation')) });
            measured.push({ patientId: a.patientId, at: a.time, m: r.measured });
          });
        }
        await this.fhir.repo.insertPrepared(q, prepared);
        const out: AlertChange[] = [];
        measured.sort((x, y) => x.at.localeCompare(y.at));
        const measuredPatients = [...new Set(measured.map((x) => x.patientId))];
        // Two batches for one patient take turns from here to commit (episodes open once, in order).
        // One global order of the locks, so two batches never wait for each other in a circle.
        await q.query("SELECT pg_advisory_xact_lock(k) FROM (SELECT DISTINCT hashtext('alert-episode:' || p) AS k FROM unnest($1::text[]) AS p ORDER BY 1) s", [measuredPatients]);
        const open = await loadOpenEpisodes(q, measuredPatients);
        for (const x of measured) {
          const { limits, org } = await this.limitsFor(q, x.patientId);
          const change = await applyReading(q, this.fhir.repo, open, { patientId: x.patientId, organizationId: org, measured: x.m, at: x.at, breach: evaluate(x.m, limits) });
          if (change) out.push(change);
        }
        await saveTouched(q, open);
        for (const c of out.filter((c) => c.kind === 'opened' || c.kind === 'worse')) {
          if (c.organizationId) await addNotification(q, { organizationId: c.organizationId }, 'alert', `Cảnh báo: ${c.text}`, `/alerts`);
        }
        const patients = [...new Set(accepted.map((a) => a.patientId))];
        await this.audit.append(q, { username: 'device-ingest', action: 'device.ingest', outcome: 'success', resourceType: 'Observation', patientIds: patients, detail: { messages: accepted.length, observations: prepared.length, devices: [...new Set(accepted.map((a) => a.deviceId))].slice(0, 50) } });
        return out;
      });
    } catch (err) {
      await earlier;
      for (const j of jobs) j.reject(err as Error);
      return;
    }
    // MQTT wants a client's PUBACKs in the order of its PUBLISHes: a batch that committed first
    // still answers after the one before it.
    await earlier;
    for (const [i, j] of jobs.entries()) j.resolve(replies[i]);
    for (const [i, j] of jobs.entries()) this.onReply?.(j.deviceId, replies[i]);
    for (const d of refusedDevices) await this.audit.record({ username: `device:${d.slice(0, 64)}`, action: 'device.publish', outcome: 'denied', resourceType: 'Device', resourceId: d }).catch(() => undefined);
    const byPatient = new Map<string, number>();
    for (const a of accepted) if (replies[a.i].status === 'accepted') byPatient.set(a.patientId, (byPatient.get(a.patientId) ?? 0) + 1);
    for (const [patientId] of byPatient) {
      const org = this.limits.get(patientId)?.org;
      if (org) await this.bus.publish({ kind: 'observation.new', to: { organizationIds: [org] }, data: { patientId } });
    }
    for (const c of changes) {
      if (c.organizationId) await this.bus.publish({ kind: `alert.${c.kind}`, to: { organizationIds: [c.organizationId] }, data: { episodeId: c.episodeId, patientId: c.patientId, metric: c.metric, severity: c.severity ?? null } });
    }
  }

  /** Waits until everything queued so far is committed (tests, shutdown). */
  async drain(): Promise<void> {
    while (this.queue.length || this.timer || this.running) await new Promise((r) => setTimeout(r, 5));
  }

  // ------------------------------------------------------------ HTTP: FHIR Observations from devices

  /** A FHIR Observation with one of our LOINC codes → the reading it reports. */
  static readingFromObservation(o: Observation): Reading | undefined {
    const code = o.code?.coding?.find((c) => c.system === LOINC)?.code;
    const q = o.valueQuantity;
    const unit = q?.system === UCUM ? q.code : undefined;
    if (code === '85354-9') {
      const comp = (c: string) => o.component?.find((x) => x.code.coding?.some((y) => y.code === c))?.valueQuantity;
      const s = comp('8480-6');
      const d = comp('8462-4');
      return s?.value !== undefined && d?.value !== undefined ? { type: 'bp', systolic: s.value, diastolic: d.value, unit: s.code ?? '' } : undefined;
    }
    const type = { '8867-4': 'hr', '59408-5': 'spo2', '8310-5': 'temp', '29463-7': 'weight', '15074-8': 'glucose', '2339-0': 'glucose' }[code ?? ''] as Reading['type'] | undefined;
    return type && q?.value !== undefined ? ({ type, value: q.value, unit: unit ?? '' } as Reading) : undefined;
  }

  // ------------------------------------------------------------ alerts

  async alerts(ctx: AccessContext, open = true): Promise<unknown[]> {
    const org = ctx.actor.organizationId;
    const r = await this.fhir.db.query<{ id: number; patient_id: string; metric: string; severity: string; opened_at: Date; last_reading_at: Date; last_value: string; acknowledged_at: Date | null; acknowledged_by: string | null; escalated_at: Date | null; closed_at: Date | null; flag_id: string }>(
      `SELECT * FROM alert_episode WHERE organization_id = $1 ${open ? 'AND closed_at IS NULL' : ''} ORDER BY (acknowledged_at IS NULL) DESC, severity DESC, opened_at DESC LIMIT 500`,
      [org ?? ''],
    );
    const ids = [...new Set(r.rows.map((x) => x.patient_id))];
    const names = new Map<string, string>();
    if (ids.length) {
      const b = await this.fhir.searchBundle('Patient', new URLSearchParams({ _id: ids.join(','), _count: '500' }), undefined, {}, ctx);
      for (const e of b.entry ?? []) {
        const p = e.resource as Patient;
        const n = p.name?.[0];
        names.set(p.id!, n?.text ?? [n?.family, ...(n?.given ?? [])].join(' '));
      }
    }
    // Only patients this person may see (the search above was access-checked and audited).
    return r.rows.filter((x) => names.has(x.patient_id)).map((x) => ({ id: x.id, patientId: x.patient_id, patient: names.get(x.patient_id), metric: x.metric, severity: x.severity, openedAt: x.opened_at, lastReadingAt: x.last_reading_at, lastValue: JSON.parse(x.last_value), acknowledgedAt: x.acknowledged_at, escalatedAt: x.escalated_at, closedAt: x.closed_at, flagId: x.flag_id }));
  }

  async acknowledge(ctx: AccessContext, episodeId: number): Promise<void> {
    const ep = (await this.fhir.db.query<{ patient_id: string; organization_id: string | null }>('SELECT patient_id, organization_id FROM alert_episode WHERE id = $1', [episodeId])).rows[0];
    if (!ep) throw notFound(`Không có cảnh báo ${episodeId}`);
    await this.fhir.read('Patient', ep.patient_id, undefined, ctx);
    await this.fhir.db.transaction(async (q) => {
      await q.query('UPDATE alert_episode SET acknowledged_at = coalesce(acknowledged_at, now()), acknowledged_by = coalesce(acknowledged_by, $2) WHERE id = $1', [episodeId, ctx.actor.username ?? ctx.actor.accountId ?? '?']);
      if (ctx.actor.via !== 'test') await this.audit.append(q, { ...actorFields(ctx), action: 'alert.acknowledge', outcome: 'success', patientIds: [ep.patient_id], detail: { episodeId } });
    });
    if (ep.organization_id) await this.bus.publish({ kind: 'alert.acknowledged', to: { organizationIds: [ep.organization_id] }, data: { episodeId } });
  }

  /** Unacknowledged alerts older than the limit go to everyone at the facility, and by SMS to the GP. */
  async escalate(): Promise<number> {
    const due = await this.fhir.db.transaction(async (q) => {
      const rows = (await q.query<{ id: number; patient_id: string; organization_id: string | null; metric: string }>(
        `UPDATE alert_episode SET escalated_at = now()
         WHERE closed_at IS NULL AND acknowledged_at IS NULL AND escalated_at IS NULL AND opened_at < now() - make_interval(mins => $1)
         RETURNING id, patient_id, organization_id, metric`,
        [this.escalateAfterMinutes],
      )).rows;
      for (const r of rows) {
        if (r.organization_id) await addNotification(q, { organizationId: r.organization_id }, 'alert', `Cảnh báo chưa ai xử lý sau ${this.escalateAfterMinutes} phút`, '/alerts');
        const org = r.organization_id ? await this.fhir.repo.tryRead<Resource & { telecom?: { system?: string; value?: string }[] }>('Organization', r.organization_id, q) : undefined;
        const phone = org?.telecom?.find((t) => t.system === 'phone')?.value;
        if (phone) await enqueueMessage(q, { channel: 'sms', recipient: phone, subject: 'Cảnh báo theo dõi từ xa', body: 'Có cảnh báo chỉ số sinh tồn chưa được xử lý. Mở Cầu Y Tế để xem.', dedupeKey: `escalate:${r.id}` });
      }
      return rows;
    });
    for (const r of due) if (r.organization_id) await this.bus.publish({ kind: 'alert.escalated', to: { organizationIds: [r.organization_id] }, data: { episodeId: r.id } });
    return due.length;
  }

  /** Per-patient targets as a CarePlan with Goals (replacing the defaults for alerts). */
  async setTargets(ctx: AccessContext, patientId: string, t: { systolicMax?: number; diastolicMax?: number; glucoseMin?: number; glucoseMax?: number }): Promise<CarePlan> {
    await this.fhir.read('Patient', patientId, undefined, ctx);
    const goal = (code: string, text: string, high?: number, low?: number, unit = 'mm[Hg]') =>
      ({ resourceType: 'Goal', lifecycleStatus: 'active', description: { text }, subject: { reference: `Patient/${patientId}` }, target: [{ measure: { coding: [{ system: LOINC, code }] }, detailRange: { ...(low !== undefined ? { low: { value: low, unit, system: UCUM, code: unit } } : {}), ...(high !== undefined ? { high: { value: high, unit, system: UCUM, code: unit } } : {}) } }] }) as Goal;
    const plan = await this.fhir.db.transaction(async (q) => {
      const old = await this.fhir.searchBundle('Goal', new URLSearchParams({ patient: `Patient/${patientId}`, 'lifecycle-status': 'active', _count: '50' }), q);
      for (const e of old.entry ?? []) await this.fhir.repo.update({ ...(e.resource as Goal), lifecycleStatus: 'cancelled' }, {}, q);
      const goals: Goal[] = [];
      if (t.systolicMax) goals.push((await this.fhir.repo.create(goal('8480-6', `Huyết áp tâm thu ≤ ${t.systolicMax} mmHg`, t.systolicMax), q)) as Goal);
      if (t.diastolicMax) goals.push((await this.fhir.repo.create(goal('8462-4', `Huyết áp tâm trương ≤ ${t.diastolicMax} mmHg`, t.diastolicMax), q)) as Goal);
      if (t.glucoseMin || t.glucoseMax) goals.push((await this.fhir.repo.create(goal('15074-8', `Đường huyết ${t.glucoseMin ?? ''}–${t.glucoseMax ?? ''} mmol/L`, t.glucoseMax, t.glucoseMin, 'mmol/L'), q)) as Goal);
      const cp = (await this.fhir.repo.create({ resourceType: 'CarePlan', status: 'active', intent: 'plan', title: 'Mục tiêu theo dõi từ xa', subject: { reference: `Patient/${patientId}` }, goal: goals.map((g) => ({ reference: `Goal/${g.id}` })), created: new Date().toISOString() } as CarePlan, q)) as CarePlan;
      if (ctx.actor.via !== 'test') await this.audit.append(q, { ...actorFields(ctx), action: 'create', outcome: 'success', resourceType: 'CarePlan', resourceId: cp.id, patientIds: [patientId], detail: t });
      return cp;
    });
    this.forgetLimits(patientId);
    return plan;
  }
}

function tokenMatches(hash: string, token: string): boolean {
  const a = Buffer.from(hash, 'hex');
  const b = Buffer.from(sha(token), 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}
