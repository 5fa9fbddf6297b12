/**
 * Devices and ingest. A device is a FHIR Device bound to a patient (home device) or to a commune
 * station (shared; the patient is named in each message). It authenticates with its own secret
 * (credentials.ts: only a SHA-256 is kept; rotate and revoke). Messages are written in batches
 * (ingest/): one transaction stores the message ids (duplicates once), the Observations (validated,
 * at their own time, so late uploads from an offline device land where they belong), quarantined
 * readings with reasons, alert episodes and one audit row — and only then is each message
 * acknowledged (MQTT PUBACK / HTTP answer), so nothing acknowledged is ever lost.
 *
 * Rules: what a person does goes through `store.as(ctx, 'devices.manage')` (patient reach on
 * every resource, audited under the person); ingest and credential checks through
 * `store.system(…, 'devices')`. Domain tables only through the repository's DomainSql. Shared
 * devices belong to one facility: only its own staff register or manage them.
 */
import type { Device } from '@medplum/fhirtypes';
import { AccessDenied } from '../auth/access.ts';
import type { AccessContext } from '../auth/actor.ts';
import type { EventBus } from '../events/bus.ts';
import { notFound } from '../fhir/outcome.ts';
import type { Repository } from '../fhir/repository.ts';
import type { FhirStore } from '../fhir/store.ts';
import {
  DEVICE_TYPES,
  type AlertItem,
  type DeviceListItem,
  type DeviceStats,
  type FleetView,
  type IngestReply,
  type QuarantineItem,
  type RegisterDeviceBody,
  type TargetsBody,
} from './contract.ts';
import { DeviceDirectory, newDeviceToken } from './credentials.ts';
import { deviceFleet, inFacilityFleet } from './fleet.ts';
import { IngestPipeline } from './ingest/batch.ts';
import { PatientDirectory } from './ingest/patients.ts';
import { IngestQueue, type TransportRefusal } from './ingest/queue.ts';
import { Monitoring } from './monitoring.ts';
import { DeviceCounters } from './stats.ts';

export { DEVICE_TYPES } from './contract.ts';
export type { IngestReply } from './contract.ts';

export interface DeviceServiceOptions {
  escalateAfterMinutes: number;
  /** Messages per ingest batch (default 500). */
  batchSize?: number;
  /** How long the first message of a batch waits for others (default 10 ms). */
  batchDelayMs?: number;
  /** Largest device message in bytes (default 64 KiB): larger ones are refused, never acknowledged. */
  maxPayloadBytes?: number;
}

export class DeviceService {
  readonly maxPayloadBytes: number;
  readonly counters: DeviceCounters;
  private readonly directory: DeviceDirectory;
  private readonly patients = new PatientDirectory();
  private readonly queue: IngestQueue<IngestReply>;
  private readonly monitoring: Monitoring;
  /** Called when a device is revoked or its secret rotated (the broker disconnects it). */
  onRevoke?: (deviceId: string) => void;
  /** Called after commit with each processed message's reply (the broker publishes it). */
  onReply?: (deviceId: string, reply: IngestReply) => void;

  constructor(
    private readonly store: FhirStore,
    private readonly bus: EventBus,
    opts: DeviceServiceOptions,
  ) {
    this.maxPayloadBytes = opts.maxPayloadBytes ?? 64 * 1024;
    this.directory = new DeviceDirectory(store);
    this.counters = new DeviceCounters((id) => this.directory.facilityOf(id));
    const pipeline = new IngestPipeline(store, bus, this.directory, this.patients, this.counters, { onReply: (d, r) => this.onReply?.(d, r) });
    this.queue = new IngestQueue(pipeline.process, opts.batchSize ?? 500, opts.batchDelayMs ?? 10);
    this.monitoring = new Monitoring(store, bus, opts.escalateAfterMinutes, (p) => this.patients.forget(p));
  }

  get escalateAfterMinutes(): number {
    return this.monitoring.escalateAfterMinutes;
  }

  // ------------------------------------------------------------ registration and credentials

  async register(ctx: AccessContext, input: RegisterDeviceBody): Promise<{ device: Device; token: string }> {
    if (input.organizationId && input.organizationId !== ctx.actor.organizationId) {
      throw new AccessDenied('Chỉ đăng ký thiết bị dùng chung cho cơ sở của mình (register shared devices for your own facility)');
    }
    const { token, hash } = newDeviceToken();
    const device = await this.store.as(ctx, 'devices.manage').transaction(async (tx) => {
      if (input.patientId) await tx.read('Patient', input.patientId); // the patient must be in my care
      const d = await tx.create<Device>({
        resourceType: 'Device',
        status: 'active',
        identifier: [{ system: 'https://fhir.cauyte.vn/sid/device-serial', value: input.serial }],
        deviceName: [{ name: input.name, type: 'user-friendly-name' }],
        type: {
          coding: [{ system: 'https://fhir.cauyte.vn/CodeSystem/device-type', code: input.type, display: DEVICE_TYPES[input.type] }],
          text: DEVICE_TYPES[input.type],
        },
        ...(input.patientId ? { patient: { reference: `Patient/${input.patientId}` } } : {}),
        ...(input.organizationId ? { owner: { reference: `Organization/${input.organizationId}` } } : {}),
      });
      await tx.sql.query('INSERT INTO device_credential (device_id, token_hash) VALUES ($1, $2)', [d.id, hash]);
      await tx.record({ action: 'device.register', resourceType: 'Device', resourceId: d.id });
      return d;
    });
    return { device, token };
  }

  async rotate(ctx: AccessContext, deviceId: string): Promise<string> {
    const { token, hash } = newDeviceToken();
    await this.store.as(ctx, 'devices.manage').transaction(async (tx) => {
      const d = await this.manageable(ctx, tx, deviceId);
      await tx.sql.query('UPDATE device_credential SET token_hash = $2, created_at = now() WHERE device_id = $1 AND revoked_at IS NULL', [deviceId, hash]);
      await tx.record({ action: 'device.rotate', resourceType: 'Device', resourceId: d.id });
    });
    this.directory.forget(deviceId);
    this.onRevoke?.(deviceId); // its current connection used the old secret
    return token;
  }

  async revoke(ctx: AccessContext, deviceId: string): Promise<void> {
    await this.store.as(ctx, 'devices.manage').transaction(async (tx) => {
      const d = await this.manageable(ctx, tx, deviceId);
      await tx.sql.query('UPDATE device_credential SET revoked_at = now() WHERE device_id = $1', [deviceId]);
      await tx.update<Device>({ ...d, status: 'inactive' });
      await tx.record({ action: 'device.revoke', resourceType: 'Device', resourceId: d.id });
    });
    this.directory.forget(deviceId);
    this.onRevoke?.(deviceId);
    await this.bus.publish({ kind: 'device.revoked', to: {}, data: { deviceId } });
  }

  /**
   * Disables a device of my facility from the fleet screen (an administrator has no clinical reach,
   * so a home device is found through the facility's register: fleet.ts). Same effect as revoke:
   * the credential stops working at once and the Device becomes inactive.
   */
  async disable(ctx: AccessContext, deviceId: string): Promise<void> {
    const org = ctx.actor.organizationId;
    const d = org ? await inFacilityFleet(this.store, org, deviceId) : undefined;
    if (!d) throw notFound(`Không có thiết bị này trong cơ sở của bạn (no such device at your facility)`);
    const repo = this.store.as(ctx, 'devices.manage');
    await repo.transaction(async (tx) => {
      await tx.sql.query('UPDATE device_credential SET revoked_at = coalesce(revoked_at, now()) WHERE device_id = $1', [deviceId]);
      await tx.record({ action: 'device.revoke', resourceType: 'Device', resourceId: deviceId, detail: { from: 'fleet' } });
    });
    if (d.status !== 'inactive')
      await this.store.system('device fleet: mark a disabled device inactive', 'devices').update<Device>({ ...d, status: 'inactive' });
    this.directory.forget(deviceId);
    this.onRevoke?.(deviceId);
    await this.bus.publish({ kind: 'device.revoked', to: {}, data: { deviceId } });
  }

  /** The facility's device fleet (fleet.ts). */
  fleet(ctx: AccessContext): Promise<FleetView> {
    return deviceFleet(this.store, ctx);
  }

  /**
   * A device I may manage: a shared device of my own facility, or a home device of a patient in
   * my care (the read itself checks the patient).
   */
  private async manageable(ctx: AccessContext, tx: Repository, deviceId: string): Promise<Device> {
    const d = await tx.tryRead<Device>('Device', deviceId);
    if (!d) throw notFound(`Không có thiết bị ${deviceId} (no such device)`);
    const patientId = d.patient?.reference?.startsWith('Patient/') ? d.patient.reference.slice(8) : undefined;
    // The read already required the patient's record to be in reach (Device.patient is a patient link); ask again, explicitly.
    if (patientId) {
      if (await tx.reaches(patientId)) return d;
      throw new AccessDenied('Thiết bị của người bệnh không thuộc cơ sở của bạn (a patient device not in your care)', 403, false, patientId);
    }
    if (ctx.actor.organizationId && d.owner?.reference === `Organization/${ctx.actor.organizationId}`) return d;
    throw new AccessDenied('Thiết bị không thuộc cơ sở của bạn (not your facility’s device)');
  }

  /** The shared devices of my facility and the home devices of patients in my care. */
  async list(ctx: AccessContext): Promise<DeviceListItem[]> {
    return this.store.as(ctx, 'devices.manage').transaction(async (tx) => {
      const all = await tx.search<Device>('Device', { _count: '500', _sort: '-_lastUpdated' });
      const mine = all.filter(
        (d) => !!d.patient?.reference || (!!ctx.actor.organizationId && d.owner?.reference === `Organization/${ctx.actor.organizationId}`),
      );
      const revoked = new Set(
        (
          await tx.sql.query<{ device_id: string }>('SELECT device_id FROM device_credential WHERE revoked_at IS NOT NULL AND device_id = ANY($1::text[])', [
            mine.map((d) => d.id!),
          ])
        ).rows.map((r) => r.device_id),
      );
      return mine.map((d) => ({ ...d, revoked: revoked.has(d.id!) }));
    });
  }

  /** Quarantined messages of the devices I manage, newest first. */
  async quarantine(ctx: AccessContext): Promise<QuarantineItem[]> {
    const mine = (await this.list(ctx)).map((d) => d.id!);
    const r = await this.store
      .as(ctx, 'devices.manage')
      .sql.query<QuarantineItem & { received_at: Date }>(
        'SELECT id, device_id, message_id, received_at, reasons FROM device_quarantine WHERE device_id = ANY($1::text[]) ORDER BY id DESC LIMIT 200',
        [mine],
      );
    return r.rows.map((x) => ({ ...x, id: Number(x.id), received_at: new Date(x.received_at).toISOString() }));
  }

  /** For the broker's CONNECT and HTTP ingest: the device exists, is active, and the secret is right (refusals audited). */
  async authenticate(deviceId: string, token: string): Promise<boolean> {
    const r = await this.directory.authenticate(deviceId, token);
    if (!r.ok) await this.directory.denied('device.connect', deviceId, r.reason, !!r.info);
    return r.ok;
  }

  /** A device connecting with valid credentials under another client id: refused (by the broker) and audited here. */
  async refuseClientId(deviceId: string, clientId: string): Promise<void> {
    await this.directory.denied('device.connect', deviceId, 'client id does not match the device', true, { clientId: clientId.slice(0, 100) });
  }

  /**
   * The device counters: with a caller, those of the caller's facility only (a caller without a
   * facility gets zeros); without one, the platform-wide sum (the platform's own use).
   */
  stats(ctx?: AccessContext): DeviceStats {
    if (!ctx) return this.counters.snapshot();
    return this.counters.snapshot(ctx.actor.organizationId ?? '\u0000none');
  }

  // ------------------------------------------------------------ ingest

  /** Queues one message; resolves after its batch committed (then, and only then, acknowledge it). */
  ingest(deviceId: string, payload: string, requireToken: boolean): Promise<IngestReply> {
    return this.queue.push({ deviceId, payload, requireToken });
  }

  /** A message refused before parsing (too large, not UTF-8): quarantined with the reason, counted, never stored. */
  refuse(deviceId: string, refusal: TransportRefusal): Promise<IngestReply> {
    return this.queue.push({ deviceId, payload: '', requireToken: false, refusal });
  }

  /** Waits until everything queued so far is committed (tests, shutdown). */
  drain(): Promise<void> {
    return this.queue.drain();
  }

  // ------------------------------------------------------------ monitoring

  alerts(ctx: AccessContext, open = true): Promise<AlertItem[]> {
    return this.monitoring.alerts(ctx, open);
  }

  acknowledge(ctx: AccessContext, episodeId: number): Promise<void> {
    return this.monitoring.acknowledge(ctx, episodeId);
  }

  escalate(): Promise<number> {
    return this.monitoring.escalate();
  }

  setTargets(ctx: AccessContext, patientId: string, t: TargetsBody) {
    return this.monitoring.setTargets(ctx, patientId, t);
  }
}
