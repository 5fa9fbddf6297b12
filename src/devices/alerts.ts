/**
 * Thresholds and alerts. Each patient's targets come from their CarePlan goals when set, else from
 * defaults for their conditions. A reading outside its range opens an alert episode with a FHIR Flag
 * and tells the care team live; further out-of-range readings of the same episode do not alert
 * again (alert fatigue); a reading back in range closes it. An episode nobody acknowledges in time
 * is escalated to the whole facility.
 *
 * Default limits (documented in docs/devices.md): blood pressure ≥ 140/90 above target, ≥ 180/110
 * severe (ESH/ISH 2020–2023 office thresholds; hypertensive urgency); glucose < 3.9 mmol/L low and
 * < 3.0 severe, > 13.9 high and ≥ 16.7 severe (ADA 2024 hypo-/hyperglycaemia levels); SpO2 < 92 %
 * low and < 90 % severe; heart rate < 45 or > 120 /min, < 40 or > 140 severe; temperature ≥ 38.5 °C,
 * ≥ 40 °C severe.
 *
 * Rules: episodes live in alert_episode (the devices domain's own table, through the unit of
 * work's DomainSql); their Flags are written through the same repository, so both commit with
 * the readings that caused them. An alert Flag carries the alert-severity extension: that is the
 * marker by which the workflow owns it (rules.ts) — plain FHIR cannot open, close or edit one.
 */
import type { Flag, Goal } from '@medplum/fhirtypes';
import type { DomainSql } from '../db/domain-sql.ts';
import type { Repository } from '../fhir/repository.ts';
import type { Measured } from './readings.ts';

/** The extension every alert Flag carries (and the marker of the workflow's Flags). */
export const ALERT_SEVERITY_EXT = 'https://fhir.cauyte.vn/StructureDefinition/alert-severity';

export function isAlertFlag(r: { resourceType: string; extension?: { url?: string }[] }): boolean {
  return r.resourceType === 'Flag' && !!r.extension?.some((e) => e.url === ALERT_SEVERITY_EXT);
}

export type Severity = 'high' | 'severe';

export interface Limits {
  systolicMax: number;
  diastolicMax: number;
  systolicSevere: number;
  diastolicSevere: number;
  glucoseMin: number;
  glucoseMax: number;
  glucoseSevereLow: number;
  glucoseSevereHigh: number;
  spo2Min: number;
  spo2Severe: number;
  hrMin: number;
  hrMax: number;
  hrSevereMin: number;
  hrSevereMax: number;
  tempMax: number;
  tempSevere: number;
}

export const DEFAULT_LIMITS: Limits = {
  systolicMax: 139,
  diastolicMax: 89,
  systolicSevere: 180,
  diastolicSevere: 110,
  glucoseMin: 3.9,
  glucoseMax: 13.9,
  glucoseSevereLow: 3.0,
  glucoseSevereHigh: 16.7,
  spo2Min: 92,
  spo2Severe: 90,
  hrMin: 45,
  hrMax: 120,
  hrSevereMin: 40,
  hrSevereMax: 140,
  tempMax: 38.4,
  tempSevere: 40,
};

/** Goal targets by LOINC code → the limits they set (CarePlan.goal → Goal.target). */
const GOAL_LIMITS: Record<string, (high?: number, low?: number) => Partial<Limits>> = {
  '8480-6': (high) => (high ? { systolicMax: high } : {}),
  '8462-4': (high) => (high ? { diastolicMax: high } : {}),
  '15074-8': (high, low) => ({ ...(high ? { glucoseMax: high } : {}), ...(low ? { glucoseMin: low } : {}) }),
};

export function limitsFromGoals(goals: Goal[]): Limits {
  let limits = { ...DEFAULT_LIMITS };
  for (const g of goals) {
    if (g.lifecycleStatus !== 'active') continue;
    for (const t of g.target ?? []) {
      const code = t.measure?.coding?.find((c) => c.system === 'http://loinc.org')?.code;
      const f = code ? GOAL_LIMITS[code] : undefined;
      if (f) limits = { ...limits, ...f(t.detailRange?.high?.value, t.detailRange?.low?.value) };
    }
  }
  return limits;
}

export interface Breach {
  metric: Measured['metric'];
  severity: Severity;
  text: string;
}

/** undefined = within range. */
export function evaluate(m: Measured, l: Limits): Breach | undefined | null {
  const v = m.values;
  switch (m.metric) {
    case 'bp': {
      const text = `Huyết áp ${v.systolic}/${v.diastolic} mmHg`;
      if (v.systolic >= l.systolicSevere || v.diastolic >= l.diastolicSevere) return { metric: 'bp', severity: 'severe', text: `${text} — rất cao` };
      if (v.systolic > l.systolicMax || v.diastolic > l.diastolicMax) return { metric: 'bp', severity: 'high', text: `${text} — vượt mục tiêu` };
      return undefined;
    }
    case 'glucose': {
      const text = `Đường huyết ${v.mmol} mmol/L`;
      if (v.mmol < l.glucoseSevereLow || v.mmol >= l.glucoseSevereHigh)
        return { metric: 'glucose', severity: 'severe', text: `${text} — ${v.mmol < l.glucoseMin ? 'hạ đường huyết nặng' : 'tăng rất cao'}` };
      if (v.mmol < l.glucoseMin || v.mmol > l.glucoseMax)
        return { metric: 'glucose', severity: 'high', text: `${text} — ${v.mmol < l.glucoseMin ? 'hạ đường huyết' : 'tăng cao'}` };
      return undefined;
    }
    case 'spo2':
      if (v.value < l.spo2Severe) return { metric: 'spo2', severity: 'severe', text: `SpO2 ${v.value}% — rất thấp` };
      if (v.value < l.spo2Min) return { metric: 'spo2', severity: 'high', text: `SpO2 ${v.value}% — thấp` };
      return undefined;
    case 'hr':
      if (v.value < l.hrSevereMin || v.value > l.hrSevereMax) return { metric: 'hr', severity: 'severe', text: `Nhịp tim ${v.value}/phút — bất thường nặng` };
      if (v.value < l.hrMin || v.value > l.hrMax) return { metric: 'hr', severity: 'high', text: `Nhịp tim ${v.value}/phút — bất thường` };
      return undefined;
    case 'temp':
      if (v.value >= l.tempSevere) return { metric: 'temp', severity: 'severe', text: `Nhiệt độ ${v.value}°C — sốt rất cao` };
      if (v.value > l.tempMax) return { metric: 'temp', severity: 'high', text: `Nhiệt độ ${v.value}°C — sốt` };
      return undefined;
    case 'weight':
      return null; // no alert on weight alone
  }
}

export interface AlertChange {
  kind: 'opened' | 'worse' | 'closed';
  episodeId: number;
  patientId: string;
  organizationId?: string;
  metric: string;
  severity?: Severity;
  text?: string;
}

export interface OpenEpisode {
  id: number;
  severity: Severity;
  flag_id: string;
  last_reading_at: Date;
  last_value: string;
  touched?: boolean;
}

/** Open episodes of these patients, locked for the batch: one query instead of one per reading. */
export async function loadOpenEpisodes(q: DomainSql, patientIds: string[]): Promise<Map<string, OpenEpisode>> {
  const r = await q.query<OpenEpisode & { patient_id: string; metric: string }>(
    'SELECT id, patient_id, metric, severity, flag_id, last_reading_at, last_value FROM alert_episode WHERE patient_id = ANY($1::text[]) AND closed_at IS NULL FOR UPDATE',
    [patientIds],
  );
  return new Map(r.rows.map((x) => [`${x.patient_id}|${x.metric}`, x]));
}

/** Writes back the latest reading of every episode the batch touched without changing its state. */
export async function saveTouched(q: DomainSql, open: Map<string, OpenEpisode>): Promise<void> {
  const t = [...open.values()].filter((e) => e.touched);
  if (!t.length) return;
  await q.query(
    'UPDATE alert_episode a SET last_reading_at = x.at, last_value = x.v, severity = x.s FROM unnest($1::bigint[], $2::timestamptz[], $3::text[], $4::text[]) AS x(id, at, v, s) WHERE a.id = x.id',
    [t.map((e) => e.id), t.map((e) => e.last_reading_at.toISOString()), t.map((e) => e.last_value), t.map((e) => e.severity)],
  );
}

/** Applies one reading to the patient's episode for that metric, inside the ingest transaction. */
export async function applyReading(
  repo: Repository,
  open: Map<string, OpenEpisode>,
  a: { patientId: string; organizationId?: string; measured: Measured; at: string; breach: Breach | undefined | null },
): Promise<AlertChange | undefined> {
  if (a.breach === null) return undefined;
  const q = repo.sql;
  const key = `${a.patientId}|${a.measured.metric}`;
  const ep = open.get(key);
  const value = JSON.stringify(a.measured.values);
  const at = new Date(a.at);
  if (!a.breach) {
    // Back in range — but only a reading newer than the episode's latest closes it (out-of-order uploads).
    if (!ep || at < ep.last_reading_at) return undefined;
    await q.query('UPDATE alert_episode SET closed_at = now(), last_reading_at = $2, last_value = $3 WHERE id = $1', [ep.id, a.at, value]);
    open.delete(key);
    const flag = await repo.read<Flag>('Flag', ep.flag_id);
    await repo.update<Flag>({ ...flag, status: 'inactive', period: { ...flag.period, end: a.at } });
    return { kind: 'closed', episodeId: ep.id, patientId: a.patientId, organizationId: a.organizationId, metric: a.measured.metric };
  }
  if (ep) {
    const worse = ep.severity === 'high' && a.breach.severity === 'severe';
    if (at >= ep.last_reading_at) {
      ep.last_reading_at = at;
      ep.last_value = value;
    }
    if (worse) ep.severity = 'severe';
    ep.touched = true;
    return worse
      ? {
          kind: 'worse',
          episodeId: ep.id,
          patientId: a.patientId,
          organizationId: a.organizationId,
          metric: a.measured.metric,
          severity: 'severe',
          text: a.breach.text,
        }
      : undefined;
  }
  const flag = await repo.create<Flag>({
    resourceType: 'Flag',
    status: 'active',
    category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/flag-category', code: 'clinical', display: 'Clinical' }] }],
    code: { text: a.breach.text },
    subject: { reference: `Patient/${a.patientId}` },
    period: { start: a.at },
    extension: [{ url: ALERT_SEVERITY_EXT, valueCode: a.breach.severity }],
  } as Flag);
  const row = (
    await q.query<{ id: number }>(
      'INSERT INTO alert_episode (patient_id, metric, severity, flag_id, organization_id, last_reading_at, last_value) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id',
      [a.patientId, a.measured.metric, a.breach.severity, flag.id, a.organizationId ?? null, a.at, value],
    )
  ).rows[0];
  open.set(key, { id: row.id, severity: a.breach.severity, flag_id: flag.id!, last_reading_at: at, last_value: value });
  return {
    kind: 'opened',
    episodeId: row.id,
    patientId: a.patientId,
    organizationId: a.organizationId,
    metric: a.measured.metric,
    severity: a.breach.severity,
    text: a.breach.text,
  };
}
