/**
 * Training indicators for the programme dashboard (reports.read): sessions held, hours taught,
 * people trained (counted at least once), per facility and per province, and the facilities of
 * the register never trained. Read from the training tables and the programme's facility register
 * (the reports domain's read-only grant). Scoped as the programme dashboard is (src/programme/scope.ts):
 * the Ministry's analyst sees the country, an analyst of a provincial health department that
 * province's facilities, a facility administrator (or an analyst held at a facility) that facility.
 */
import type { AccessContext } from '../auth/actor.ts';
import type { FhirStore } from '../fhir/store.ts';
import { scopeLabel, scopeOf } from '../programme/scope.ts';
import type { TrainingIndicators } from './contract.ts';
import { num } from './model.ts';

export class TrainingIndicatorService {
  constructor(private readonly store: FhirStore) {}

  async report(ctx: AccessContext): Promise<TrainingIndicators> {
    const repo = this.store.as(ctx, 'reports.read');
    const scope = await scopeOf(repo.sql, ctx.actor);
    const own = scope.kind === 'facility' ? scope.facilityId : null;
    const prov = scope.kind === 'province' ? scope.provinceCode : null;
    // A facility in scope: the one facility, or one of the province's register.
    const inScope = (col: string) =>
      `($1::text IS NULL OR ${col} = $1) AND ($2::int IS NULL OR ${col} IN (SELECT org_id FROM programme_facility WHERE province_code = $2))`;
    // Nationally every closed session; in a scope, the closed sessions someone of the scope counted at.
    const held = `SELECT s.* FROM training_session s WHERE s.closed_at IS NOT NULL AND (($1::text IS NULL AND $2::int IS NULL)
      OR EXISTS (SELECT 1 FROM training_attendance a WHERE a.session_id = s.id AND a.counted AND ${inScope('a.org_id')}))`;
    const totals = (
      await repo.sql.query<{ sessions: string; hours: string; people: string }>(
        `SELECT (SELECT count(*) FROM (${held}) h) AS sessions,
           (SELECT coalesce(sum(extract(epoch FROM ends_at - starts_at)) / 3600, 0) FROM (${held}) h) AS hours,
           (SELECT count(DISTINCT person_key) FROM training_attendance WHERE counted AND ${inScope('org_id')}) AS people`,
        [own, prov],
      )
    ).rows[0];
    const byFacility = (
      await repo.sql.query<{ org_id: string; name: string | null; province_code: number | null; people: string; credits: string }>(
        `SELECT a.org_id, f.name, f.province_code, count(DISTINCT a.person_key) AS people, sum(a.credits) AS credits
         FROM training_attendance a LEFT JOIN programme_facility f ON f.org_id = a.org_id
         WHERE a.counted AND a.org_id IS NOT NULL AND ${inScope('a.org_id')} GROUP BY a.org_id, f.name, f.province_code ORDER BY people DESC`,
        [own, prov],
      )
    ).rows;
    const byProvince = (
      await repo.sql.query<{ province_code: number; people: string; sessions: string }>(
        `SELECT f.province_code, count(DISTINCT a.person_key) AS people, count(DISTINCT a.session_id) AS sessions
         FROM training_attendance a JOIN programme_facility f ON f.org_id = a.org_id
         WHERE a.counted AND ${inScope('a.org_id')} GROUP BY f.province_code ORDER BY f.province_code`,
        [own, prov],
      )
    ).rows;
    const never = (
      await repo.sql.query<{ org_id: string; name: string; province_code: number }>(
        `SELECT f.org_id, f.name, f.province_code FROM programme_facility f
         WHERE ${inScope('f.org_id')}
           AND NOT EXISTS (SELECT 1 FROM training_attendance a WHERE a.org_id = f.org_id AND a.counted)
           AND NOT EXISTS (SELECT 1 FROM training_programme p WHERE p.hub_org = f.org_id)
         ORDER BY f.province_code, f.name LIMIT 1000`,
        [own, prov],
      )
    ).rows;
    const names = own ? (await repo.sql.query<{ name: string }>('SELECT name FROM programme_facility WHERE org_id = $1', [own])).rows : [];
    return {
      scope: { kind: scope.kind, label: scopeLabel(scope, names[0]?.name) },
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
