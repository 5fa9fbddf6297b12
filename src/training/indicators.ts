/**
 * Training indicators for the programme dashboard (reports.read): sessions held, hours taught,
 * people trained (counted at least once), per facility and per province, and the facilities of
 * the register never trained. Read from the training tables and the programme's facility register
 * (the reports domain's read-only grant). A facility administrator sees their own facility's row.
 */
import type { AccessContext } from '../auth/actor.ts';
import type { FhirStore } from '../fhir/store.ts';
import type { TrainingIndicators } from './contract.ts';
import { num } from './model.ts';

export class TrainingIndicatorService {
  constructor(private readonly store: FhirStore) {}

  async report(ctx: AccessContext): Promise<TrainingIndicators> {
    const repo = this.store.as(ctx, 'reports.read');
    const own = ctx.actor.role === 'facility_admin' ? (ctx.actor.organizationId ?? '-') : null;
    const totals = (
      await repo.sql.query<{ sessions: string; hours: string; people: string }>(
        `SELECT (SELECT count(*) FROM training_session WHERE closed_at IS NOT NULL) AS sessions,
           (SELECT coalesce(sum(extract(epoch FROM ends_at - starts_at)) / 3600, 0) FROM training_session WHERE closed_at IS NOT NULL) AS hours,
           (SELECT count(DISTINCT person_key) FROM training_attendance WHERE counted AND ($1::text IS NULL OR org_id = $1)) AS people`,
        [own],
      )
    ).rows[0];
    const byFacility = (
      await repo.sql.query<{ org_id: string; name: string | null; province_code: number | null; people: string; credits: string }>(
        `SELECT a.org_id, f.name, f.province_code, count(DISTINCT a.person_key) AS people, sum(a.credits) AS credits
         FROM training_attendance a LEFT JOIN programme_facility f ON f.org_id = a.org_id
         WHERE a.counted AND a.org_id IS NOT NULL AND ($1::text IS NULL OR a.org_id = $1) GROUP BY a.org_id, f.name, f.province_code ORDER BY people DESC`,
        [own],
      )
    ).rows;
    const byProvince = (
      await repo.sql.query<{ province_code: number; people: string; sessions: string }>(
        `SELECT f.province_code, count(DISTINCT a.person_key) AS people, count(DISTINCT a.session_id) AS sessions
         FROM training_attendance a JOIN programme_facility f ON f.org_id = a.org_id
         WHERE a.counted AND ($1::text IS NULL OR a.org_id = $1) GROUP BY f.province_code ORDER BY f.province_code`,
        [own],
      )
    ).rows;
    const never = (
      await repo.sql.query<{ org_id: string; name: string; province_code: number }>(
        `SELECT f.org_id, f.name, f.province_code FROM programme_facility f
         WHERE ($1::text IS NULL OR f.org_id = $1)
           AND NOT EXISTS (SELECT 1 FROM training_attendance a WHERE a.org_id = f.org_id AND a.counted)
           AND NOT EXISTS (SELECT 1 FROM training_programme p WHERE p.hub_org = f.org_id)
         ORDER BY f.province_code, f.name LIMIT 1000`,
        [own],
      )
    ).rows;
    return {
      sessions: num(totals.sessions),
      hours: Math.round(num(totals.hours) * 10) / 10,
      peopleTrained: num(totals.people),
      byFacility: byFacility.map((r) => ({
        organizationId: r.org_id,
        name: r.name ?? r.org_id,
        provinceCode: r.province_code,
        people: num(r.people),
        credits: num(r.credits),
      })),
      byProvince: byProvince.map((r) => ({ provinceCode: r.province_code, people: num(r.people), sessions: num(r.sessions) })),
      neverTrained: never.map((r) => ({ organizationId: r.org_id, name: r.name, provinceCode: r.province_code })),
    };
  }
}
