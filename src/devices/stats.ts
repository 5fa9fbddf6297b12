/**
 * Counters of what the device side of the platform accepted and refused since this process
 * started (connections, messages, quarantined readings). Kept in memory, per node; read through
 * DeviceService.stats() and GET /api/devices/stats. Every refusal counted here is also either
 * audited (connections) or kept in device_quarantine with its reason (messages).
 */
import type { DeviceStats } from './contract.ts';

export type MessageOutcome = keyof DeviceStats['messages'];

export class DeviceCounters {
  private readonly s: DeviceStats = {
    since: new Date().toISOString(),
    connections: { accepted: 0, refusedCredentials: 0, refusedClientId: 0 },
    messages: { accepted: 0, duplicate: 0, rejected: 0, refused: 0, oversized: 0, malformed: 0 },
    observations: 0,
    invalidObservations: 0,
    quarantined: 0,
  };

  connection(kind: keyof DeviceStats['connections']): void {
    this.s.connections[kind]++;
  }

  message(kind: MessageOutcome, n = 1): void {
    this.s.messages[kind] += n;
  }

  stored(observations: number, quarantined: number, invalid: number): void {
    this.s.observations += observations;
    this.s.quarantined += quarantined;
    this.s.invalidObservations += invalid;
  }

  snapshot(): DeviceStats {
    return structuredClone(this.s);
  }
}
