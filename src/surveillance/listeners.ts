/**
 * Surveillance's derived tables, kept in step with the record inside every write's transaction
 * (whichever way the write came: a visit note, the FHIR API, a lab feed, a bulk load):
 *
 *   Patient → surveillance_patient_place (home province and commune; the person's cases move with it);
 *   Condition (ICD-10, not refuted), Encounter reasonCode (ICD-10), Observation (LOINC of the list,
 *       positive result) → surveillance_case (one row per source record naming a notifiable disease);
 *   each touched cell (disease, commune, ISO week) → surveillance_week recounted exactly (distinct persons);
 *   then detection for that week (commune and province series) → surveillance_signal (signals.ts);
 *   a new Group-A case → a single-case signal and an urgent notification to the province's
 *       disease-control centre (surveillance_authority).
 *
 * Rules: the listener gets the surveillance DomainSql only; no patient identifier is copied (a
 * person is a one-way hash, used to count them once per disease and week).
 */
import { createHash } from 'node:crypto';
import type { Condition, Encounter, Observation, Patient, Reference } from '@medplum/fhirtypes';
import type { DomainSql } from '../db/domain-sql.ts';
import type { DomainWriteListener } from '../fhir/store.ts';
import { addNotification } from '../events/outbox.ts';
import { ADMIN_UNIT_EXT, COMMUNE_CODE_SYSTEM, PROVINCE_CODE_SYSTEM } from '../programme/model.ts';
import { communeByName, communeIn, provinces } from '../programme/places.ts';
import { diseaseList, type Disease, type DiseaseMatcher } from './diseases.ts';
import { weekOf, weekLabel } from './weeks.ts';
import { evaluateCell } from './signals.ts';

const ICD10 = 'http://hl7.org/fhir/sid/icd-10';
const LOINC = 'http://loinc.org';
const POSITIVE_INTERPRETATION = new Set(['POS', 'DET', 'A', 'AA', 'H']);
const POSITIVE_SNOMED = new Set(['10828004', '260373001', '52101004']);

interface CaseRow {
  source: string;
  patient_key: string;
  disease: string;
  disease_group: string;
  week: string;
  province_code: number | null;
  commune_code: number | null;
}

export const patientKey = (patientId: string) => createHash('sha256').update(`cauyte-surveillance:${patientId}`).digest('hex').slice(0, 32);
const patientOf = (ref: Reference | undefined) => (ref?.reference?.startsWith('Patient/') ? ref.reference.slice(8) : undefined);

/** Home province and commune of a Patient: admin-unit codes when present, else the names of the post-2025 units. */
export function placeOf(p: Patient): { province: number; commune: number | null } | undefined {
  const addresses = [...(p.address ?? [])].sort((a, b) => Number(b.use === 'home') - Number(a.use === 'home'));
  for (const a of addresses) {
    const codes = (a.extension ?? []).filter((e) => e.url === ADMIN_UNIT_EXT).map((e) => e.valueCoding);
    const prov = Number(codes.find((c) => c?.system === PROVINCE_CODE_SYSTEM)?.code);
    const comm = Number(codes.find((c) => c?.system === COMMUNE_CODE_SYSTEM)?.code);
    if (Number.isInteger(prov) && prov > 0) return { province: prov, commune: Number.isInteger(comm) && communeIn(prov, comm) ? comm : null };
    const province = provinces().find((x) => x.name === a.state || x.name.replace(/^(Tỉnh|Thành phố) /, '') === a.state);
    if (province) return { province: province.code, commune: (a.city && communeByName(province.code, a.city)?.code) || null };
  }
  return undefined;
}

const day = (...ts: (string | undefined)[]) => ts.find((t) => t && !Number.isNaN(Date.parse(t)));

function conditionCase(c: Condition, list: DiseaseMatcher): { disease: Disease; when?: string; patient?: string } | undefined {
  const v = c.verificationStatus?.coding?.[0]?.code;
  if (v === 'refuted' || v === 'entered-in-error') return undefined;
  const disease = (c.code?.coding ?? [])
    .filter((x) => x.system === ICD10 && x.code)
    .map((x) => list.icd10(x.code!))
    .find(Boolean);
  return disease && { disease, when: day(c.onsetDateTime, c.onsetPeriod?.start, c.recordedDate, c.meta?.lastUpdated), patient: patientOf(c.subject) };
}

function encounterCase(e: Encounter, list: DiseaseMatcher): { disease: Disease; when?: string; patient?: string } | undefined {
  if (e.status === 'cancelled' || e.status === 'entered-in-error' || e.status === 'planned') return undefined;
  const disease = (e.reasonCode ?? [])
    .flatMap((r) => r.coding ?? [])
    .filter((x) => x.system === ICD10 && x.code)
    .map((x) => list.icd10(x.code!))
    .find(Boolean);
  return disease && { disease, when: day(e.period?.start, e.meta?.lastUpdated), patient: patientOf(e.subject) };
}

function labCase(o: Observation, list: DiseaseMatcher): { disease: Disease; when?: string; patient?: string } | undefined {
  if (!['final', 'amended', 'corrected', 'preliminary'].includes(o.status)) return undefined;
  const disease = (o.code?.coding ?? [])
    .filter((x) => x.system === LOINC && x.code)
    .map((x) => list.lab(x.code!))
    .find(Boolean);
  if (!disease) return undefined;
  const positive =
    (o.interpretation ?? []).some((i) => i.coding?.some((x) => POSITIVE_INTERPRETATION.has(x.code ?? ''))) ||
    !!o.valueCodeableConcept?.coding?.some((x) => POSITIVE_SNOMED.has(x.code ?? '')) ||
    /^(positive|detected|dương tính)$/i.test(o.valueString?.trim() ?? '');
  return positive
    ? { disease, when: day(o.effectiveDateTime, o.effectivePeriod?.start, o.issued, o.meta?.lastUpdated), patient: patientOf(o.subject) }
    : undefined;
}

async function recount(sql: DomainSql, disease: string, province: number, commune: number, week: string): Promise<number> {
  const r = await sql.query<{ n: string }>(
    'SELECT count(DISTINCT patient_key) AS n FROM surveillance_case WHERE disease = $1 AND province_code = $2 AND commune_code = $3 AND week = $4',
    [disease, province, commune, week],
  );
  const n = Number(r.rows[0]?.n ?? 0);
  if (n === 0)
    await sql.query('DELETE FROM surveillance_week WHERE disease = $1 AND province_code = $2 AND commune_code = $3 AND week = $4', [
      disease,
      province,
      commune,
      week,
    ]);
  else
    await sql.query(
      `INSERT INTO surveillance_week (disease, province_code, commune_code, week, cases) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (disease, province_code, commune_code, week) DO UPDATE SET cases = EXCLUDED.cases`,
      [disease, province, commune, week, n],
    );
  return n;
}

const cellOf = (r: CaseRow | undefined) =>
  r && r.province_code != null ? { disease: r.disease, province: r.province_code, commune: r.commune_code ?? 0, week: r.week } : undefined;
const sameCell = (a?: ReturnType<typeof cellOf>, b?: ReturnType<typeof cellOf>) =>
  !!a && !!b && a.disease === b.disease && a.province === b.province && a.commune === b.commune && a.week === b.week;

async function groupAAlert(sql: DomainSql, list: DiseaseMatcher, row: CaseRow, cases: number): Promise<void> {
  const d = list.byCode.get(row.disease);
  const prov = provinces().find((p) => p.code === row.province_code);
  const commune = row.commune_code ? communeIn(row.province_code!, row.commune_code)?.name : undefined;
  const place = [commune, prov?.name].filter(Boolean).join(', ') || `Tỉnh ${row.province_code}`;
  const s = await sql.query<{ id: string }>(
    `INSERT INTO surveillance_signal (disease, province_code, commune_code, week, algorithm, statistic, threshold, observed, expected, data)
     VALUES ($1, $2, $3, $4, 'group-a', $5::float8, 1, $5::int, 0, $6)
     ON CONFLICT (disease, province_code, commune_code, week, algorithm) DO UPDATE SET statistic = EXCLUDED.statistic, observed = EXCLUDED.observed, data = EXCLUDED.data
     RETURNING id`,
    [row.disease, row.province_code, row.commune_code ?? 0, row.week, cases, JSON.stringify({ rule: 'Group A: one case is an alert', series: [cases] })],
  );
  const orgs = await sql.query<{ org_id: string }>('SELECT org_id FROM surveillance_authority WHERE province_code = $1', [row.province_code]);
  const title = `Cảnh báo bệnh nhóm A: ${d?.vi ?? row.disease} — ${place} (tuần ${weekLabel(row.week)}, ${cases} ca)`;
  for (const o of orgs.rows)
    await addNotification(sql, { organizationId: o.org_id }, 'surveillance', title, `/surveillance?signal=${s.rows[0].id}`, { urgent: true });
}

/** Writes the new version of a source's case row, recounts the cells it left and entered, runs detection there. */
async function saveCase(sql: DomainSql, list: DiseaseMatcher, source: string, next: CaseRow | undefined): Promise<void> {
  const prev = await sql.query<CaseRow>(
    "SELECT source, patient_key, disease, disease_group, to_char(week, 'YYYY-MM-DD') AS week, province_code, commune_code FROM surveillance_case WHERE source = $1",
    [source],
  );
  const old = prev.rows[0];
  if (!old && !next) return;
  if (
    old &&
    next &&
    old.patient_key === next.patient_key &&
    old.disease === next.disease &&
    old.week === next.week &&
    old.province_code === next.province_code &&
    old.commune_code === next.commune_code
  )
    return;
  if (next)
    await sql.query(
      `INSERT INTO surveillance_case (source, patient_key, disease, disease_group, week, province_code, commune_code) VALUES ($1, $2, $3, $4, $5, $6, $7)
       ON CONFLICT (source) DO UPDATE SET patient_key = EXCLUDED.patient_key, disease = EXCLUDED.disease, disease_group = EXCLUDED.disease_group,
         week = EXCLUDED.week, province_code = EXCLUDED.province_code, commune_code = EXCLUDED.commune_code`,
      [source, next.patient_key, next.disease, next.disease_group, next.week, next.province_code, next.commune_code],
    );
  else await sql.query('DELETE FROM surveillance_case WHERE source = $1', [source]);
  await touched(sql, list, cellOf(old), cellOf(next), next);
}

async function touched(sql: DomainSql, list: DiseaseMatcher, from: ReturnType<typeof cellOf>, to: ReturnType<typeof cellOf>, row?: CaseRow): Promise<void> {
  if (from && !sameCell(from, to)) {
    await recount(sql, from.disease, from.province, from.commune, from.week);
    await evaluateCell(sql, from.disease, from.province, from.commune, from.week);
  }
  if (to) {
    const before = sameCell(from, to) ? -1 : await countOf(sql, to);
    const n = await recount(sql, to.disease, to.province, to.commune, to.week);
    await evaluateCell(sql, to.disease, to.province, to.commune, to.week);
    if (row && row.disease_group === 'A' && n > before) await groupAAlert(sql, list, row, n);
  }
}

async function countOf(sql: DomainSql, c: NonNullable<ReturnType<typeof cellOf>>): Promise<number> {
  const r = await sql.query<{ cases: number }>(
    'SELECT cases FROM surveillance_week WHERE disease = $1 AND province_code = $2 AND commune_code = $3 AND week = $4',
    [c.disease, c.province, c.commune, c.week],
  );
  return r.rows[0]?.cases ?? 0;
}

async function onPatient(sql: DomainSql, list: DiseaseMatcher, id: string, p: Patient | undefined, firstVersion: boolean): Promise<void> {
  const place = p ? placeOf(p) : undefined;
  // A new Patient with no known place changes nothing: no place row can exist for it yet, and no
  // row reads the same as one without a place (its earlier-filed cases have none either).
  if (firstVersion && !place) return;
  const key = patientKey(id);
  // The person's place, and their cases filed elsewhere (a case filed before the Patient was
  // written gets its place now), in one statement: the SELECT reads another table, unaffected.
  const cases = await sql.query<CaseRow>(
    `WITH place AS (
       INSERT INTO surveillance_patient_place (patient_key, province_code, commune_code) VALUES ($1, $2, $3)
       ON CONFLICT (patient_key) DO UPDATE SET province_code = EXCLUDED.province_code, commune_code = EXCLUDED.commune_code
     )
     SELECT source, patient_key, disease, disease_group, to_char(week, 'YYYY-MM-DD') AS week, province_code, commune_code FROM surveillance_case
      WHERE patient_key = $1 AND (province_code IS DISTINCT FROM $2 OR commune_code IS DISTINCT FROM $3)`,
    [key, place?.province ?? null, place?.commune ?? null],
    { prepare: true }, // every Patient write runs it
  );
  for (const c of cases.rows) await saveCase(sql, list, c.source, { ...c, province_code: place?.province ?? null, commune_code: place?.commune ?? null });
}

export const surveillanceOnWrite: DomainWriteListener = async (sql, e) => {
  if (!['Patient', 'Condition', 'Encounter', 'Observation'].includes(e.resourceType)) return;
  const list = await diseaseList(sql);
  const r = e.deleted ? undefined : e.resource;
  if (e.resourceType === 'Patient') return onPatient(sql, list, e.id, r as Patient | undefined, e.versionId === 1 && !e.deleted);
  const found =
    r &&
    (e.resourceType === 'Condition'
      ? conditionCase(r as Condition, list)
      : e.resourceType === 'Encounter'
        ? encounterCase(r as Encounter, list)
        : labCase(r as Observation, list));
  const source = `${e.resourceType}/${e.id}`;
  // A new record that names no notifiable disease has no row to remove (most writes end here).
  if (!found?.patient) return e.versionId === 1 && !e.deleted ? undefined : saveCase(sql, list, source, undefined);
  const key = patientKey(found.patient);
  const place = await sql.query<{ province_code: number | null; commune_code: number | null }>(
    'SELECT province_code, commune_code FROM surveillance_patient_place WHERE patient_key = $1',
    [key],
  );
  await saveCase(sql, list, source, {
    source,
    patient_key: key,
    disease: found.disease.code,
    disease_group: found.disease.group,
    week: weekOf(found.when ?? e.lastUpdated),
    province_code: place.rows[0]?.province_code ?? null,
    commune_code: place.rows[0]?.commune_code ?? null,
  });
};
