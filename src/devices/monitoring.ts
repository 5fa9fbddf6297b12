/**
 * Remote monitoring for the care team: the alerts inbox of my facility, acknowledging an alert,
 * escalating the ones nobody acknowledged in time, and per-patient targets (a CarePlan with Goals
 * that replace the default alert limits).
 *
 * Rules: what a person does goes through `store.as(ctx, 'monitoring.view')` (setting targets: `monitoring.manage`, clinical roles only) — patient reach is
 * checked on every resource and the unit of work is audited under the person; the escalation
 * timer is platform work (`store.system('alert escalation', 'devices')`). alert_episode and the
 * notification tables only through the repository's DomainSql. Targets made here carry the
 * monitoring marker (TARGETS_CATEGORY), by which the workflow owns them (rules.ts).
 */
import type { CarePlan, Goal, Organization, Patient } from '@medplum/fhirtypes';
import type { AccessContext } from '../auth/actor.ts';
import type { EventBus } from '../events/bus.ts';
import { addNotification, enqueueMessage } from '../events/outbox.ts';
import { notFound } from '../fhir/outcome.ts';
import type { FhirStore } from '../fhir/store.ts';
import type { AlertItem, TargetsBody } from './contract.ts';
import { LOINC, UCUM } from './readings.ts';

/** The marker of the CarePlan and Goals that hold a patient's monitoring targets. */
export const TARGETS_CATEGORY = {
  system: 'https://fhir.cauyte.vn/CodeSystem/care-plan-category',
  code: 'remote-monitoring-targets',
  display: 'Mục tiêu theo dõi từ xa',
};

export function isTargetsResource(r: { resourceType: string; category?: { coding?: { system?: string; code?: string }[] }[] }): boolean {
  return (
    (r.resourceType === 'CarePlan' || r.resourceType === 'Goal') &&
    !!r.category?.some((c) => c.coding?.some((x) => x.system === TARGETS_CATEGORY.system && x.code === TARGETS_CATEGORY.code))
  );
}

interface EpisodeRow {
  id: number;
  patient_id: string;
  metric: AlertItem['metric'];
  severity: AlertItem['severity'];
  opened_at: Date;
  last_reading_at: Date;
  last_value: string;
  acknowledged_at: Date | null;
  escalated_at: Date | null;
  closed_at: Date | null;
  flag_id: string;
}

const iso = (d: Date | null) => (d ? new Date(d).toISOString() : undefined);

export class Monitoring {
  constructor(
    private readonly store: FhirStore,
    private readonly bus: EventBus,
    readonly escalateAfterMinutes: number,
    /** Called when a patient's targets change (the ingest reads its limits again). */
    private readonly onTargets: (patientId: string) => void,
  ) {}

  /** Alerts of my facility, for patients I may see (one access-checked search names them). */
  async alerts(ctx: AccessContext, open = true): Promise<AlertItem[]> {
    const repo = this.store.as(ctx, 'monitoring.view');
    return repo.transaction(async (tx) => {
      const r = await tx.sql.query<EpisodeRow>(
        `SELECT id, patient_id, metric, severity, opened_at, last_reading_at, last_value, acknowledged_at, escalated_at, closed_at, flag_id FROM alert_episode
         WHERE organization_id = $1 ${open ? 'AND closed_at IS NULL' : ''} ORDER BY (acknowledged_at IS NULL) DESC, severity DESC, opened_at DESC LIMIT 500`,
        [ctx.actor.organizationId ?? ''],
      );
      const ids = [...new Set(r.rows.map((x) => x.patient_id))];
      const names = new Map<string, string>();
      if (ids.length) {
        for (const p of await tx.search<Patient>('Patient', { _id: ids.join(','), _count: '500' })) {
          const n = p.name?.[0];
          names.set(p.id!, n?.text ?? [n?.family, ...(n?.given ?? [])].join(' '));
        }
      }
      return r.rows
        .filter((x) => names.has(x.patient_id))
        .map((x) => ({
          id: Number(x.id),
          patientId: x.patient_id,
          patient: names.get(x.patient_id)!,
          metric: x.metric,
          severity: x.severity,
          openedAt: iso(x.opened_at)!,
          lastReadingAt: iso(x.last_reading_at)!,
          lastValue: JSON.parse(x.last_value) as Record<string, number>,
          acknowledgedAt: iso(x.acknowledged_at),
          escalatedAt: iso(x.escalated_at),
          closedAt: iso(x.closed_at),
          flagId: x.flag_id,
        }));
    });
  }

  async acknowledge(ctx: AccessContext, episodeId: number): Promise<void> {
    const repo = this.store.as(ctx, 'monitoring.view');
    const org = await repo.transaction(async (tx) => {
      const ep = (
        await tx.sql.query<{ patient_id: string; organization_id: string | null }>('SELECT patient_id, organization_id FROM alert_episode WHERE id = $1', [
          episodeId,
        ])
      ).rows[0];
      if (!ep) throw notFound(`Không có cảnh báo ${episodeId} (no such alert)`);
      await tx.read('Patient', ep.patient_id); // the patient must be in my care
      await tx.sql.query(
        'UPDATE alert_episode SET acknowledged_at = coalesce(acknowledged_at, now()), acknowledged_by = coalesce(acknowledged_by, $2) WHERE id = $1',
        [episodeId, ctx.actor.username ?? ctx.actor.accountId ?? '?'],
      );
      await tx.record({ action: 'alert.acknowledge', resourceType: 'Patient', resourceId: ep.patient_id, detail: { episodeId } });
      return ep.organization_id;
    });
    if (org) await this.bus.publish({ kind: 'alert.acknowledged', to: { organizationIds: [org] }, data: { episodeId } });
  }

  /** Unacknowledged alerts older than the limit go to everyone at the facility, and by SMS to its phone. */
  async escalate(): Promise<number> {
    const due = await this.store.system('alert escalation', 'devices').transaction(async (tx) => {
      const rows = (
        await tx.sql.query<{ id: number; patient_id: string; organization_id: string | null }>(
          `UPDATE alert_episode SET escalated_at = now()
         WHERE closed_at IS NULL AND acknowledged_at IS NULL AND escalated_at IS NULL AND opened_at < now() - make_interval(mins => $1)
         RETURNING id, patient_id, organization_id`,
          [this.escalateAfterMinutes],
        )
      ).rows;
      for (const r of rows) {
        if (!r.organization_id) continue;
        await addNotification(
          tx.sql,
          { organizationId: r.organization_id },
          'alert',
          `Cảnh báo chưa ai xử lý sau ${this.escalateAfterMinutes} phút`,
          '/alerts',
        );
        const org = await tx.tryRead<Organization>('Organization', r.organization_id);
        const phone = org?.telecom?.find((t) => t.system === 'phone')?.value;
        if (phone)
          await enqueueMessage(tx.sql, {
            channel: 'sms',
            recipient: phone,
            subject: 'Cảnh báo theo dõi từ xa',
            body: 'Có cảnh báo chỉ số sinh tồn chưa được xử lý. Mở Cầu Y Tế để xem.',
            dedupeKey: `escalate:${r.id}`,
          });
      }
      if (rows.length)
        await tx.record({
          action: 'alert.escalate',
          patientIds: [...new Set(rows.map((r) => r.patient_id))],
          detail: { episodes: rows.map((r) => Number(r.id)) },
        });
      return rows;
    });
    for (const r of due)
      if (r.organization_id)
        await this.bus.publish({ kind: 'alert.escalated', to: { organizationIds: [r.organization_id] }, data: { episodeId: Number(r.id) } });
    return due.length;
  }

  /** Per-patient targets: a new monitoring CarePlan with its Goals replaces the previous one. */
  async setTargets(ctx: AccessContext, patientId: string, t: TargetsBody): Promise<CarePlan> {
    const subject = { reference: `Patient/${patientId}` };
    const goal = (code: string, text: string, high?: number, low?: number, unit = 'mm[Hg]') =>
      ({
        resourceType: 'Goal',
        lifecycleStatus: 'active',
        category: [{ coding: [TARGETS_CATEGORY] }],
        description: { text },
        subject,
        target: [
          {
            measure: { coding: [{ system: LOINC, code }] },
            detailRange: {
              ...(low !== undefined ? { low: { value: low, unit, system: UCUM, code: unit } } : {}),
              ...(high !== undefined ? { high: { value: high, unit, system: UCUM, code: unit } } : {}),
            },
          },
        ],
      }) as Goal;
    const plan = await this.store.as(ctx, 'monitoring.manage').transaction(async (tx) => {
      await tx.read('Patient', patientId);
      // The previous targets stop: every active Goal that sets an alert limit, and the previous plan.
      for (const g of await tx.search<Goal>('Goal', { patient: subject.reference, 'lifecycle-status': 'active', _count: '100' })) {
        if (
          isTargetsResource(g) ||
          g.target?.some((x) => x.measure?.coding?.some((c) => c.system === LOINC && ['8480-6', '8462-4', '15074-8'].includes(c.code ?? '')))
        )
          await tx.update<Goal>({ ...g, lifecycleStatus: 'cancelled' });
      }
      for (const cp of await tx.search<CarePlan>('CarePlan', { patient: subject.reference, status: 'active', _count: '100' })) {
        if (isTargetsResource(cp)) await tx.update<CarePlan>({ ...cp, status: 'revoked', period: { ...cp.period, end: new Date().toISOString() } });
      }
      const goals: Goal[] = [];
      if (t.systolicMax) goals.push(goal('8480-6', `Huyết áp tâm thu ≤ ${t.systolicMax} mmHg`, t.systolicMax));
      if (t.diastolicMax) goals.push(goal('8462-4', `Huyết áp tâm trương ≤ ${t.diastolicMax} mmHg`, t.diastolicMax));
      if (t.glucoseMin || t.glucoseMax)
        goals.push(goal('15074-8', `Đường huyết ${t.glucoseMin ?? ''}–${t.glucoseMax ?? ''} mmol/L`, t.glucoseMax, t.glucoseMin, 'mmol/L'));
      const created = await tx.createMany(goals);
      const cp = await tx.create<CarePlan>({
        resourceType: 'CarePlan',
        status: 'active',
        intent: 'plan',
        category: [{ coding: [TARGETS_CATEGORY] }],
        title: 'Mục tiêu theo dõi từ xa',
        subject,
        goal: created.map((g) => ({ reference: `Goal/${g.id}` })),
        created: new Date().toISOString(),
      });
      await tx.record({ action: 'monitoring.targets', resourceType: 'CarePlan', resourceId: cp.id, patientIds: [patientId], detail: { ...t } });
      return cp;
    });
    this.onTargets(patientId);
    return plan;
  }
}
