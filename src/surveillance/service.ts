/**
 * Early warning as use cases: the disease-control officer's signals and series (their province
 * only, full counts), a decision on a signal (recorded with who, when and the note; audited),
 * aggregates for other roles (counts of 1–4 suppressed), and the administrator's loads. Whose
 * province is decided from the account's organisation (surveillance_authority for disease control,
 * programme_authority for an analyst), never from the request.
 */
import type { AccessContext } from '../auth/actor.ts';
import { AccessDenied } from '../auth/access.ts';
import type { DomainSql } from '../db/domain-sql.ts';
import type { FhirStore } from '../fhir/store.ts';
import { badRequest, conflict, notFound } from '../fhir/outcome.ts';
import { communeIn, province } from '../programme/places.ts';
import { hiddenParts, SMALL_CELL } from '../platform/small-cells.ts';
import type { AggregateReport, DiseaseListInfo, SeriesView, SignalList, SignalView } from './contract.ts';
import { diseaseList, forgetDiseaseList, type DiseaseList } from './diseases.ts';
import { seriesOf } from './signals.ts';
import { addWeeks, weekLabel, weekOf } from './weeks.ts';

export const SUPPRESS_BELOW = SMALL_CELL;

const placeName = (prov: number, commune: number) => (commune ? (communeIn(prov, commune)?.name ?? `Xã ${commune}`) : (province(prov)?.name ?? `Tỉnh ${prov}`));

/**
 * Which cells of an aggregate are hidden: counts under 5, and — because the communes of a province
 * add up to the province's count in the national view — per disease and week, the smallest shown
 * ones as well until at least two are hidden and they add up to 5 or more (a single hidden commune
 * would be the province's count minus the others).
 */
export function hiddenCells(rows: { disease: string; week: string; n: string | number }[]): Set<number> {
  const groups = new Map<string, number[]>();
  rows.forEach((x, i) => groups.set(`${x.disease}|${x.week}`, [...(groups.get(`${x.disease}|${x.week}`) ?? []), i]));
  const hidden = new Set<number>();
  for (const members of groups.values()) {
    const h = hiddenParts(
      members.map((i) => Number(rows[i].n)),
      { zeroIsSmall: true },
    );
    members.forEach((i, k) => h[k] && hidden.add(i));
  }
  return hidden;
}

/** The province of a disease-control officer's centre (403 otherwise). */
export async function officerProvince(sql: DomainSql, ctx: AccessContext): Promise<number> {
  const org = ctx.actor.organizationId;
  if (ctx.actor.role !== 'disease_control' || !org) throw new AccessDenied('Chỉ cán bộ kiểm soát bệnh tật tỉnh (disease-control officers only)');
  const r = await sql.query<{ province_code: number }>('SELECT province_code FROM surveillance_authority WHERE org_id = $1', [org]);
  if (!r.rows[0]) throw new AccessDenied('Đơn vị của tài khoản chưa được giao giám sát tỉnh nào (your centre watches no province)');
  return r.rows[0].province_code;
}

interface SignalRow {
  id: string;
  disease: string;
  commune_code: number;
  week: string;
  algorithm: SignalView['algorithm'];
  statistic: number;
  threshold: number;
  observed: number;
  expected: number;
  status: SignalView['status'];
  decided_by: string | null;
  decided_at: Date | null;
  note: string | null;
  created_at: Date;
}

export class SurveillanceService {
  constructor(private readonly store: FhirStore) {}

  async signals(ctx: AccessContext, q: { status: string; weeks: number }, today = new Date()): Promise<SignalList> {
    return this.store.as(ctx, 'surveillance.view').transaction(async (tx) => {
      const prov = await officerProvince(tx.sql, ctx);
      const list = await diseaseList(tx.sql);
      const r = await tx.sql.query<SignalRow>(
        `SELECT id, disease, commune_code, to_char(week, 'YYYY-MM-DD') AS week, algorithm, statistic, threshold, observed, expected, status, decided_by, decided_at, note, created_at
           FROM surveillance_signal WHERE province_code = $1 AND week >= $2 AND ($3 = 'all' OR status = $3)
          ORDER BY (algorithm = 'group-a') DESC, week DESC, status = 'open' DESC, disease, commune_code, algorithm LIMIT 500`,
        [prov, addWeeks(weekOf(today), 1 - q.weeks), q.status],
      );
      const signals = r.rows.map((s): SignalView => {
        const d = list.byCode.get(s.disease);
        return {
          id: Number(s.id),
          disease: { code: s.disease, vi: d?.vi ?? s.disease, en: d?.en ?? s.disease, group: d?.group ?? 'B', verified: d?.verified ?? false },
          place: { communeCode: s.commune_code, name: placeName(prov, s.commune_code) },
          week: s.week,
          weekLabel: weekLabel(s.week),
          algorithm: s.algorithm,
          statistic: s.statistic,
          threshold: s.threshold,
          observed: s.observed,
          expected: s.expected,
          status: s.status,
          decidedBy: s.decided_by,
          decidedAt: s.decided_at ? new Date(s.decided_at).toISOString() : null,
          note: s.note,
          createdAt: new Date(s.created_at).toISOString(),
        };
      });
      await tx.record({ action: 'surveillance.signals', detail: { province: prov, count: signals.length } });
      return {
        province: { code: prov, name: placeName(prov, 0) },
        listVersion: list.list.version,
        listVerified: list.list.diseases.every((d) => d.verified),
        signals,
      };
    });
  }

  async series(ctx: AccessContext, q: { disease: string; commune: number; weeks: number }, today = new Date()): Promise<SeriesView> {
    return this.store.as(ctx, 'surveillance.view').transaction(async (tx) => {
      const prov = await officerProvince(tx.sql, ctx);
      if (q.commune && !communeIn(prov, q.commune)) throw new AccessDenied('Xã không thuộc tỉnh của bạn (commune outside your province)');
      const d = (await diseaseList(tx.sql)).byCode.get(q.disease);
      if (!d) throw notFound(`Không có bệnh ${q.disease} trong danh mục (unknown disease)`);
      const to = weekOf(today);
      const from = addWeeks(to, 1 - q.weeks);
      const counts = await seriesOf(tx.sql, q.disease, prov, q.commune, from, to);
      const pop = await tx.sql.query<{ population: number; year: number; source: string }>(
        'SELECT population, year, source FROM surveillance_population WHERE province_code = $1 AND commune_code = $2 ORDER BY year DESC LIMIT 1',
        [prov, q.commune],
      );
      const population = pop.rows[0] ? { value: pop.rows[0].population, year: pop.rows[0].year, source: pop.rows[0].source } : null;
      const sig = await tx.sql.query<{ week: string; algorithm: SeriesView['signals'][number]['algorithm']; status: string }>(
        `SELECT to_char(week, 'YYYY-MM-DD') AS week, algorithm, status FROM surveillance_signal
          WHERE disease = $1 AND province_code = $2 AND commune_code = $3 AND week BETWEEN $4 AND $5 ORDER BY week`,
        [q.disease, prov, q.commune, from, to],
      );
      await tx.record({ action: 'surveillance.series', detail: { province: prov, commune: q.commune, disease: q.disease } });
      return {
        disease: { code: d.code, vi: d.vi, en: d.en, group: d.group },
        place: { provinceCode: prov, communeCode: q.commune, name: placeName(prov, q.commune) },
        weeks: counts.map((cases, i) => {
          const week = addWeeks(from, i);
          return { week, label: weekLabel(week), cases, ratePer100k: population ? (cases * 100_000) / population.value : null };
        }),
        population,
        signals: sig.rows,
      };
    });
  }

  async decide(ctx: AccessContext, id: number, b: { decision: 'confirmed' | 'dismissed'; note: string }): Promise<SignalView['status']> {
    return this.store.as(ctx, 'surveillance.decide').transaction(async (tx) => {
      const prov = await officerProvince(tx.sql, ctx);
      const r = await tx.sql.query<{ province_code: number; status: string; disease: string; week: string; algorithm: string; commune_code: number }>(
        "SELECT province_code, status, disease, to_char(week, 'YYYY-MM-DD') AS week, algorithm, commune_code FROM surveillance_signal WHERE id = $1 FOR UPDATE",
        [id],
      );
      const s = r.rows[0];
      // Another province's signal is as unknown as a missing one (no existence leak).
      if (!s || s.province_code !== prov) throw notFound('Không tìm thấy tín hiệu (signal not found)');
      if (s.status !== 'open') throw conflict(`Tín hiệu đã được xử lý (${s.status}) (already decided)`);
      await tx.sql.query('UPDATE surveillance_signal SET status = $2, decided_by = $3, decided_at = now(), note = $4 WHERE id = $1', [
        id,
        b.decision,
        ctx.actor.displayName ?? ctx.actor.username ?? ctx.actor.accountId ?? 'unknown',
        b.note,
      ]);
      await tx.record({
        action: `surveillance.${b.decision === 'confirmed' ? 'confirm' : 'dismiss'}`,
        detail: { signal: id, disease: s.disease, week: s.week, algorithm: s.algorithm, commune: s.commune_code, province: prov },
      });
      return b.decision;
    });
  }

  /** Weekly counts by disease and place: full for the province's disease-control officer, 1–4 suppressed for anyone else. */
  async aggregates(ctx: AccessContext, q: { weeks: number; province?: number }, today = new Date()): Promise<AggregateReport> {
    return this.store.as(ctx, 'surveillance.aggregates').transaction(async (tx) => {
      let scopeProvince: number | undefined;
      let full = false;
      if (ctx.actor.role === 'disease_control') {
        scopeProvince = await officerProvince(tx.sql, ctx);
        full = true;
      } else if (ctx.actor.organizationId) {
        const a = await tx.sql.query<{ province_code: number }>('SELECT province_code FROM programme_authority WHERE org_id = $1', [ctx.actor.organizationId]);
        if (!a.rows[0]) throw new AccessDenied('Chỉ Sở Y tế hoặc Bộ Y tế (health authorities only)');
        scopeProvince = a.rows[0].province_code;
      }
      if (q.province !== undefined && scopeProvince !== undefined && q.province !== scopeProvince)
        throw new AccessDenied('Ngoài phạm vi được xem (outside your scope)');
      const prov = q.province ?? scopeProvince;
      const to = weekOf(today);
      const from = addWeeks(to, 1 - q.weeks);
      const r = await tx.sql.query<{ disease: string; place: number; week: string; n: string }>(
        prov === undefined
          ? `SELECT disease, province_code AS place, to_char(week, 'YYYY-MM-DD') AS week, sum(cases) AS n FROM surveillance_week
              WHERE week BETWEEN $1 AND $2 GROUP BY disease, province_code, week`
          : `SELECT disease, commune_code AS place, to_char(week, 'YYYY-MM-DD') AS week, sum(cases) AS n FROM surveillance_week
              WHERE week BETWEEN $1 AND $2 AND province_code = $3 GROUP BY disease, commune_code, week`,
        prov === undefined ? [from, to] : [from, to, prov],
      );
      const list = await diseaseList(tx.sql);
      const seen = new Set(r.rows.map((x) => x.disease));
      await tx.record({ action: 'surveillance.aggregates', detail: { province: prov, suppressed: !full, weeks: q.weeks } });
      return {
        scope: prov === undefined ? 'national' : 'province',
        provinceCode: prov ?? null,
        suppressed: !full,
        weeks: Array.from({ length: q.weeks }, (_, i) => addWeeks(from, i)),
        diseases: list.list.diseases.filter((d) => seen.has(d.code)).map((d) => ({ code: d.code, vi: d.vi, en: d.en, group: d.group })),
        cells: (() => {
          const hidden = full ? new Set<number>() : hiddenCells(r.rows);
          return r.rows.map((x, i) => ({
            disease: x.disease,
            place: { code: x.place, name: prov === undefined ? placeName(x.place, 0) : x.place ? placeName(prov, x.place) : 'Chưa rõ xã' },
            week: x.week,
            cases: hidden.has(i) ? null : Number(x.n),
          }));
        })(),
      };
    });
  }

  async listInfo(ctx: AccessContext): Promise<DiseaseListInfo> {
    return this.store.as(ctx, 'surveillance.admin').transaction(async (tx) => {
      const list = await diseaseList(tx.sql);
      const v = await tx.sql.query<{ version: string; loaded_at: Date; loaded_by: string; n: number }>(
        'SELECT version, loaded_at, loaded_by, jsonb_array_length(diseases) AS n FROM surveillance_disease_list ORDER BY loaded_at DESC',
      );
      const cur = v.rows.find((x) => x.version === list.list.version);
      return {
        inForce: {
          version: list.list.version,
          source: list.list.source,
          loadedAt: cur ? new Date(cur.loaded_at).toISOString() : null,
          loadedBy: cur?.loaded_by ?? null,
          diseases: list.list.diseases.length,
          unverified: list.list.diseases.filter((d) => !d.verified).length,
        },
        versions: v.rows.map((x) => ({ version: x.version, loadedAt: new Date(x.loaded_at).toISOString(), loadedBy: x.loaded_by, diseases: Number(x.n) })),
      };
    });
  }

  async loadList(ctx: AccessContext, l: DiseaseList): Promise<{ version: string; diseases: number }> {
    const out = await this.store.as(ctx, 'surveillance.admin').transaction(async (tx) => {
      const r = await tx.sql.query(
        'INSERT INTO surveillance_disease_list (version, source, diseases, loaded_by) VALUES ($1, $2, $3, $4) ON CONFLICT (version) DO NOTHING',
        [l.version, l.source, JSON.stringify(l.diseases), ctx.actor.username ?? ctx.actor.accountId ?? 'unknown'],
      );
      if (!r.rowCount) throw conflict(`Phiên bản ${l.version} đã có (a version is loaded once)`);
      await tx.record({ action: 'surveillance.list-load', detail: { version: l.version, diseases: l.diseases.length } });
      return { version: l.version, diseases: l.diseases.length };
    });
    forgetDiseaseList();
    return out;
  }

  async setPopulation(
    ctx: AccessContext,
    rows: { provinceCode: number; communeCode: number; year: number; population: number; source: string }[],
  ): Promise<{ rows: number }> {
    return this.store.as(ctx, 'surveillance.admin').transaction(async (tx) => {
      for (const r of rows) {
        if (!province(r.provinceCode) || (r.communeCode && !communeIn(r.provinceCode, r.communeCode)))
          throw badRequest(`Không có đơn vị hành chính ${r.provinceCode}/${r.communeCode} (unknown administrative unit)`);
        await tx.sql.query(
          `INSERT INTO surveillance_population (province_code, commune_code, year, population, source) VALUES ($1, $2, $3, $4, $5)
           ON CONFLICT (province_code, commune_code, year) DO UPDATE SET population = EXCLUDED.population, source = EXCLUDED.source`,
          [r.provinceCode, r.communeCode, r.year, r.population, r.source],
        );
      }
      await tx.record({ action: 'surveillance.population', detail: { rows: rows.length } });
      return { rows: rows.length };
    });
  }

  async setAuthority(ctx: AccessContext, organizationId: string, provinceCode: number): Promise<{ organizationId: string; provinceCode: number }> {
    if (!province(provinceCode)) throw badRequest(`Không có tỉnh ${provinceCode} (unknown province)`);
    return this.store.as(ctx, 'surveillance.admin').transaction(async (tx) => {
      await tx.read('Organization', organizationId);
      await tx.sql.query(
        'INSERT INTO surveillance_authority (org_id, province_code) VALUES ($1, $2) ON CONFLICT (org_id) DO UPDATE SET province_code = EXCLUDED.province_code',
        [organizationId, provinceCode],
      );
      await tx.record({ action: 'surveillance.authority', resourceType: 'Organization', resourceId: organizationId, detail: { province: provinceCode } });
      return { organizationId, provinceCode };
    });
  }
}
