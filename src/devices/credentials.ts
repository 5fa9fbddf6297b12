/**
 * Device credentials: each device has its own secret (32 random bytes, shown once; only its
 * SHA-256 is kept in device_credential). A device is known when its FHIR Device exists and a
 * credential row names it; it may connect while the Device is active and the credential not
 * revoked.
 *
 * Rules: lookups go through a system repository (reason "device authentication", or the ingest's
 * own unit of work), so reading a Device is audited like any other access; the credential table
 * only through that repository's DomainSql. Lookups are cached for a few seconds (a device
 * connects and publishes often); rotate and revoke forget the cache at once. Refusals are audited
 * as denials by the caller that knows why (connect, publish).
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { Device, Patient } from '@medplum/fhirtypes';
import type { FhirStore } from '../fhir/store.ts';
import type { Repository } from '../fhir/repository.ts';

export interface DeviceInfo {
  device: Device;
  revoked: boolean;
  /** The facility the device counts under: its owner, or its patient's managing organisation. */
  organizationId?: string;
  tokenHash: string;
}

export type AuthResult = { ok: true; info: DeviceInfo } | { ok: false; reason: 'unknown device' | 'revoked' | 'wrong token'; info?: DeviceInfo };

const DEVICE_ID = /^[A-Za-z0-9\-.]{1,64}$/;
const CACHE_MS = 5000;

export const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

export function newDeviceToken(): { token: string; hash: string } {
  const token = randomBytes(32).toString('base64url');
  return { token, hash: sha256(token) };
}

export function tokenMatches(hash: string, token: string): boolean {
  const a = Buffer.from(hash, 'hex');
  const b = Buffer.from(sha256(token), 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

export class DeviceDirectory {
  private readonly cache = new Map<string, { info: DeviceInfo | undefined; at: number }>();

  constructor(private readonly store: FhirStore) {}

  /**
   * The device and its credential, from the cache or through `repo` (the caller's unit of work;
   * without one, a unit of its own audited as "device authentication").
   */
  async lookup(deviceId: string, repo?: Repository): Promise<DeviceInfo | undefined> {
    const cached = this.cache.get(deviceId);
    if (cached && Date.now() - cached.at < CACHE_MS) return cached.info;
    if (!DEVICE_ID.test(deviceId)) return undefined;
    const load = async (r: Repository) => {
      const device = await r.tryRead<Device>('Device', deviceId);
      if (!device) return undefined;
      const cred = (
        await r.sql.query<{ token_hash: string; revoked_at: Date | null }>('SELECT token_hash, revoked_at FROM device_credential WHERE device_id = $1', [
          deviceId,
        ])
      ).rows[0];
      if (!cred) return undefined;
      const patient = device.patient?.reference?.startsWith('Patient/') ? await r.tryRead<Patient>('Patient', device.patient.reference.slice(8)) : undefined;
      const org = (device.owner ?? patient?.managingOrganization)?.reference;
      return {
        device,
        revoked: !!cred.revoked_at || device.status !== 'active',
        tokenHash: cred.token_hash,
        organizationId: org?.startsWith('Organization/') ? org.slice(13) : undefined,
      };
    };
    const info = repo ? await load(repo) : await this.store.system('device authentication', 'devices').transaction(load);
    if (this.cache.size > 100_000) this.cache.clear();
    this.cache.set(deviceId, { info, at: Date.now() });
    return info;
  }

  /** The facility of a device seen lately (from the cache only: for counting, never for access). */
  facilityOf(deviceId: string): string | undefined {
    return this.cache.get(deviceId)?.info?.organizationId;
  }

  forget(deviceId: string): void {
    this.cache.delete(deviceId);
  }

  /** Exists, active, and the secret is right. */
  async authenticate(deviceId: string, token: string, repo?: Repository): Promise<AuthResult> {
    const info = await this.lookup(deviceId, repo);
    if (!info) return { ok: false, reason: 'unknown device' };
    if (info.revoked) return { ok: false, reason: 'revoked', info };
    if (!tokenMatches(info.tokenHash, token)) return { ok: false, reason: 'wrong token', info };
    return { ok: true, info };
  }

  /** Audits a refused device (no transaction: nothing else happened). */
  async denied(
    action: 'device.connect' | 'device.publish',
    deviceId: string,
    reason: string,
    known: boolean,
    detail: Record<string, unknown> = {},
  ): Promise<void> {
    await this.store.system('device authentication', 'devices').record({
      action,
      outcome: 'denied',
      resourceType: 'Device',
      ...(known ? { resourceId: deviceId } : {}),
      detail: { device: deviceId.slice(0, 64), reason, ...detail },
    });
  }
}
