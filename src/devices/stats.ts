/**
 * Counters of what the device side of the platform accepted and refused since this process
 * started (connections, messages, quarantined readings). Kept in memory, per node, and per
 * facility: each count is filed under the facility of the device it is about (the Device's owner,
 * or its patient's managing organisation — DeviceDirectory.facilityOf), '' when the device is
 * unknown. Read through DeviceService.stats(): GET /api/devices/stats answers a caller with the
 * counts of their own facility only; the platform-wide sum is for the platform itself (metrics,
 * tests). Every refusal counted here is also either audited (connections) or kept in
 * device_quarantine with its reason (messages).
 */
import type { DeviceStats } from './contract.ts';

export type MessageOutcome = keyof DeviceStats['messages'];
type Counts = Omit<DeviceStats, 'since'>;

const zero = (): Counts => ({
  connections: { accepted: 0, refusedCredentials: 0, refusedClientId: 0 },
  messages: { accepted: 0, duplicate: 0, rejected: 0, refused: 0, oversized: 0, malformed: 0 },
  observations: 0,
  invalidObservations: 0,
  quarantined: 0,
});

export class DeviceCounters {
  private readonly since = new Date().toISOString();
  private readonly byFacility = new Map<string, Counts>();

  /** `facilityOf` names a device's facility (undefined when unknown); it must answer at once (a cache). */
  constructor(private readonly facilityOf: (deviceId: string) => string | undefined = () => undefined) {}

  private of(deviceId: string | undefined): Counts {
    const key = (deviceId && this.facilityOf(deviceId)) || '';
    let c = this.byFacility.get(key);
    if (!c) this.byFacility.set(key, (c = zero()));
    return c;
  }

  connection(kind: keyof DeviceStats['connections'], deviceId?: string): void {
    this.of(deviceId).connections[kind]++;
  }

  message(kind: MessageOutcome, deviceId?: string, n = 1): void {
    this.of(deviceId).messages[kind] += n;
  }

  stored(deviceId: string | undefined, observations: number, quarantined: number, invalid: number): void {
    const c = this.of(deviceId);
    c.observations += observations;
    c.quarantined += quarantined;
    c.invalidObservations += invalid;
  }

  /** One facility's counts, or (no argument) the sum over every facility and unknown devices. */
  snapshot(facility?: string): DeviceStats {
    const parts = facility === undefined ? [...this.byFacility.values()] : [this.byFacility.get(facility) ?? zero()];
    const s: DeviceStats = { since: this.since, ...zero() };
    for (const c of parts) {
      for (const k of Object.keys(s.connections) as (keyof Counts['connections'])[]) s.connections[k] += c.connections[k];
      for (const k of Object.keys(s.messages) as MessageOutcome[]) s.messages[k] += c.messages[k];
      s.observations += c.observations;
      s.invalidObservations += c.invalidObservations;
      s.quarantined += c.quarantined;
    }
    return s;
  }
}
