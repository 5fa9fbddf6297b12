/**
 * One ingest batch, step by step: parse (parse.ts) → authenticate, resolve the patient and check
 * the readings (checks.ts) → de-duplicate, write the Observations and the alert episodes in one
 * transaction (commit.ts, observations.ts) → answer every message in arrival order → after commit,
 * tell the care teams live, count, and audit refused devices.
 *
 * Rules: the whole batch is one unit of work of the system repository ("device ingest", domain
 * tables of "devices"), audited in one row. Nothing is answered before commit. A batch holding an
 * invalid Observation is run again strict (each Observation validated, the invalid ones
 * quarantined); any other failure refuses every message of the batch, so the devices resend.
 */
import type { EventBus } from '../../events/bus.ts';
import type { FhirStore } from '../../fhir/store.ts';
import type { IngestReply } from '../contract.ts';
import type { DeviceDirectory } from '../credentials.ts';
import type { DeviceCounters } from '../stats.ts';
import { checkMessages, type CheckedBatch } from './checks.ts';
import { commitBatch, InvalidBatch, type CommitResult } from './commit.ts';
import { parseMessage, type Parsed } from './parse.ts';
import type { PatientDirectory } from './patients.ts';
import type { ClaimTurn, Job } from './queue.ts';

export interface IngestHooks {
  /** After commit, each processed message's reply (the broker publishes it on the reply topic). */
  onReply?: (deviceId: string, reply: IngestReply) => void;
}

type Outcome = CommitResult & { refused: CheckedBatch['refused'] };

export class IngestPipeline {
  constructor(
    private readonly store: FhirStore,
    private readonly bus: EventBus,
    private readonly devices: DeviceDirectory,
    private readonly patients: PatientDirectory,
    private readonly counters: DeviceCounters,
    private readonly hooks: IngestHooks,
  ) {}

  /** One batch; its jobs settle after `earlier` settled (answers in arrival order). */
  readonly process = async (jobs: Job<IngestReply>[], earlier: Promise<void>, claim: ClaimTurn): Promise<void> => {
    if (!jobs.length) return;
    const parsed = jobs.map((j) => parseMessage(j));
    let result: Outcome;
    try {
      try {
        result = await this.attempt(jobs, parsed, false, claim);
      } catch (err) {
        if (!(err instanceof InvalidBatch)) throw err;
        // Read the batch's devices and patients afresh too: a reference that vanished fails here.
        for (const j of jobs) this.devices.forget(j.deviceId);
        for (const p of err.patients) this.patients.forget(p);
        result = await this.attempt(jobs, parsed, true, claim);
      }
    } catch (err) {
      await earlier;
      for (const j of jobs) j.reject(err as Error);
      return;
    }
    // MQTT wants a client's PUBACKs in the order of its PUBLISHes: a batch that committed first
    // still answers after the one before it.
    await earlier;
    for (const [i, j] of jobs.entries()) j.resolve(result.replies[i]);
    for (const [i, j] of jobs.entries()) this.hooks.onReply?.(j.deviceId, result.replies[i]);
    await this.afterCommit(jobs, result);
  };

  private async attempt(jobs: Job<IngestReply>[], parsed: Parsed[], strict: boolean, claim: ClaimTurn): Promise<Outcome> {
    // Outside the transaction: on PGlite's one connection, waiting inside it for the batch before
    // would hold the connection that batch needs.
    await claim.earlier;
    return this.store.system('device ingest', 'devices').transaction(async (tx) => {
      const checked = await checkMessages(tx, jobs, parsed, { devices: this.devices, patients: this.patients });
      return {
        ...(await commitBatch(
          tx,
          checked,
          jobs.map((j) => j.payload),
          strict,
          claim.done,
        )),
        refused: checked.refused,
      };
    });
  }

  private async afterCommit(jobs: Job<IngestReply>[], result: Outcome): Promise<void> {
    // Each message, stored Observation and quarantined reading is counted under its device's facility.
    for (const [i, j] of jobs.entries()) {
      if (j.refusal) this.counters.message(j.refusal.kind, j.deviceId);
      else this.counters.message(result.replies[i].status, j.deviceId);
      const r = result.replies[i];
      if (r.status === 'accepted') this.counters.stored(j.deviceId, r.observations ?? 0, 0, 0);
    }
    for (const deviceId of result.quarantinedDevices) this.counters.stored(deviceId, 0, 1, 0);
    for (const [deviceId, n] of result.invalidBy) this.counters.stored(deviceId, 0, 0, n);
    for (const [deviceId, r] of result.refused) await this.devices.denied('device.publish', deviceId, r.reason, r.known).catch(() => undefined);
    const orgs = new Map<string, string>();
    for (const a of result.stored) if (a.organizationId) orgs.set(a.patientId, a.organizationId);
    for (const [patientId, org] of orgs) await this.bus.publish({ kind: 'observation.new', to: { organizationIds: [org] }, data: { patientId } });
    for (const c of result.changes) {
      if (c.organizationId)
        await this.bus.publish({
          kind: `alert.${c.kind}`,
          to: { organizationIds: [c.organizationId] },
          data: { episodeId: c.episodeId, patientId: c.patientId, metric: c.metric, severity: c.severity ?? null },
        });
    }
  }
}
