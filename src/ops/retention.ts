/**
 * The retention job (Circular 33/2025): finds medical records whose keeping period has ended and
 * archives them — the record (an Encounter and every resource naming it, or a deceased person's
 * health book) is written to an archive file, then removed from the live record — and nothing
 * else. Rules are data (retention-rules.ts). It never touches:
 *   - a record under a legal hold (retention_hold, on the patient or the encounter);
 *   - a record whose period has not ended, or with no date to count from;
 *   - a medical incident's record (kept permanently), nor a living person's health book.
 * A dry run computes the same report and changes nothing. All access goes through the system
 * repository `store.system(reason, 'retention')`: every read is audited with the reason, and each
 * archived record is one transaction (deletes, the archive row and a `retention.archive` audit
 * entry commit together). Removal is the FHIR delete: the live record answers 410 Gone; older
 * versions stay in the store's history tables until the engine offers a purge.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Bundle, Encounter, Patient, Resource } from '@medplum/fhirtypes';
import type { FhirStore } from '../fhir/store.ts';
import type { Repository } from '../fhir/repository.ts';
import { DIRECTORY_TYPES } from '../auth/policy.ts';
import { classOfIcd10, keepUntil, longest, type RetentionClass, type RetentionRules } from './retention-rules.ts';

/** Resource types that belong to an episode's record when they name the Encounter (their `encounter` search parameter). */
const PARTS = [
  'Observation',
  'Condition',
  'Procedure',
  'MedicationRequest',
  'MedicationAdministration',
  'DiagnosticReport',
  'DocumentReference',
  'ServiceRequest',
  'Composition',
  'ClinicalImpression',
  'CarePlan',
  'CareTeam',
  'QuestionnaireResponse',
  'Communication',
  'Media',
];

export interface RetentionItem {
  target: string;
  patient?: string;
  class: RetentionClass;
  recordDate: string;
  keepUntil: string;
  action: 'archive' | 'hold';
  resources: number;
}

export interface RetentionReport {
  dryRun: boolean;
  asOf: string;
  examined: number;
  kept: number;
  held: number;
  archived: number;
  /** Records past their period: archived (or, in a dry run, that would be), and those held. */
  items: RetentionItem[];
}

export interface RetentionOptions {
  rules: RetentionRules;
  /** Where archive files go ($CAUYTE_DATA_DIR/archive/retention). */
  archiveDir: string;
  dryRun: boolean;
  now?: Date;
}

async function all(repo: Repository, type: string, query: Record<string, string>): Promise<Resource[]> {
  const out: Resource[] = [];
  let q = new URLSearchParams({ ...query, _count: '500' });
  for (let page = 0; page < 10_000; page++) {
    const b = await repo.searchBundle(type, q);
    for (const e of b.entry ?? []) if (e.search?.mode !== 'include' && e.resource) out.push(e.resource);
    const next = b.link?.find((l) => l.relation === 'next')?.url;
    if (!next) break;
    q = new URL(next).searchParams;
  }
  return out;
}

/** Types whose store has no `encounter` search parameter (R4 names it `context` on some). */
const NO_ENCOUNTER_PARAM = new Set<string>();

async function partsOf(repo: Repository, type: string, encounter: string): Promise<Resource[]> {
  if (NO_ENCOUNTER_PARAM.has(type)) return [];
  try {
    return await all(repo, type, { encounter });
  } catch (err) {
    if (/Unknown search parameter/i.test((err as Error).message)) {
      NO_ENCOUNTER_PARAM.add(type);
      return [];
    }
    throw err;
  }
}

const ref = (r: Resource) => `${r.resourceType}/${r.id}`;
const day = (d: Date) => d.toISOString().slice(0, 10);

function icdCodes(concepts: { coding?: { system?: string; code?: string }[] }[] | undefined): string[] {
  return (concepts ?? []).flatMap((c) => (c.coding ?? []).filter((x) => x.code && /icd-?10/i.test(x.system ?? '')).map((x) => x.code!));
}

export async function runRetention(store: FhirStore, opts: RetentionOptions): Promise<RetentionReport> {
  const now = opts.now ?? new Date();
  const reason = `lưu trữ hồ sơ theo Thông tư 33/2025 (retention, Circular 33/2025)${opts.dryRun ? ' — chạy thử (dry run)' : ''}`;
  const repo = store.system(reason, 'retention');
  const holds = new Set((await repo.sql.query<{ target: string }>('SELECT target FROM retention_hold WHERE released_at IS NULL')).rows.map((r) => r.target));
  const shortest = Math.min(...Object.values(opts.rules).filter((y): y is number => y !== null));
  const cutoff = new Date(now);
  cutoff.setUTCFullYear(cutoff.getUTCFullYear() - shortest);
  const report: RetentionReport = { dryRun: opts.dryRun, asOf: now.toISOString(), examined: 0, kept: 0, held: 0, archived: 0, items: [] };
  const incidents = new Map<string, Set<string>>(); // patient -> encounters an AdverseEvent names

  const incidentEncounters = async (patient: string): Promise<Set<string>> => {
    let s = incidents.get(patient);
    if (!s) {
      const events = await all(repo, 'AdverseEvent', { subject: patient });
      s = new Set(events.map((e) => (e as { encounter?: { reference?: string } }).encounter?.reference).filter((x): x is string => !!x));
      incidents.set(patient, s);
    }
    return s;
  };

  // Episodes: only those that started before the shortest period could have ended long enough ago.
  for (const enc of (await all(repo, 'Encounter', { date: `lt${day(cutoff)}` })) as Encounter[]) {
    report.examined++;
    const ended = enc.period?.end ?? enc.period?.start;
    if (!ended) {
      report.kept++;
      continue;
    }
    const patient = enc.subject?.reference?.startsWith('Patient/') ? enc.subject.reference : undefined;
    const parts: Resource[] = [];
    for (const type of PARTS) parts.push(...(await partsOf(repo, type, ref(enc))));
    const classes: RetentionClass[] = [];
    const codes = [
      ...icdCodes(enc.reasonCode),
      ...parts.filter((p) => p.resourceType === 'Condition').flatMap((c) => icdCodes([(c as { code?: { coding?: [] } }).code ?? {}])),
    ];
    for (const c of codes) {
      const cls = classOfIcd10(c);
      if (cls) classes.push(cls);
    }
    if (enc.hospitalization?.dischargeDisposition?.coding?.some((c) => c.code === 'exp')) classes.push('death');
    if (patient && (await incidentEncounters(patient)).has(ref(enc))) classes.push('incident');
    const cls = longest(classes, opts.rules);
    const until = keepUntil(new Date(ended), cls, opts.rules);
    if (!until || until > now) {
      report.kept++;
      continue;
    }
    const held = holds.has(ref(enc)) || (patient !== undefined && holds.has(patient));
    const item: RetentionItem = {
      target: ref(enc),
      patient,
      class: cls,
      recordDate: ended,
      keepUntil: day(until),
      action: held ? 'hold' : 'archive',
      resources: parts.length + 1,
    };
    report.items.push(item);
    if (held) {
      report.held++;
      continue;
    }
    if (!opts.dryRun) await archive(repo, opts.archiveDir, item, [enc, ...parts], patient ? [patient] : []);
    report.archived++;
  }

  // Health books: a deceased person's, ten years (by the rules) after death, once no episode of theirs is left.
  for (const p of (await all(repo, 'Patient', { deceased: 'true' })) as Patient[]) {
    report.examined++;
    const died = p.deceasedDateTime;
    const until = died ? keepUntil(new Date(died), 'health_book', opts.rules) : undefined;
    if (!died || !until || until > now) {
      report.kept++;
      continue;
    }
    const patient = ref(p);
    const leftEpisodes = (await all(repo, 'Encounter', { subject: patient })).filter(
      (e) => opts.dryRun === false || !report.items.some((i) => i.action === 'archive' && i.target === ref(e)),
    );
    if (leftEpisodes.length > 0 || (await incidentEncounters(patient)).size > 0 || (await all(repo, 'AdverseEvent', { subject: patient })).length > 0) {
      report.kept++;
      continue;
    }
    const book = await repo.everything(p.id!);
    const resources = (book.entry ?? [])
      .map((e) => e.resource)
      .filter((r): r is Resource => !!r && !DIRECTORY_TYPES.has(r.resourceType) && r.resourceType !== 'Patient');
    const item: RetentionItem = {
      target: patient,
      patient,
      class: 'health_book',
      recordDate: died,
      keepUntil: day(until),
      action: holds.has(patient) ? 'hold' : 'archive',
      resources: resources.length + 1,
    };
    report.items.push(item);
    if (item.action === 'hold') {
      report.held++;
      continue;
    }
    if (!opts.dryRun) await archive(repo, opts.archiveDir, item, [p, ...resources], [patient]);
    report.archived++;
  }
  await repo.record({
    action: opts.dryRun ? 'retention.dry-run' : 'retention.run',
    detail: { examined: report.examined, archived: report.archived, held: report.held, kept: report.kept },
  });
  return report;
}

/** One record: written to its archive file, then removed from the live record in one transaction with its archive row and audit entry. */
async function archive(repo: Repository, dir: string, item: RetentionItem, resources: Resource[], patients: string[]): Promise<void> {
  const bundle: Bundle = {
    resourceType: 'Bundle',
    type: 'collection',
    timestamp: new Date().toISOString(),
    meta: { tag: [{ system: 'https://fhir.cauyte.vn/CodeSystem/retention-class', code: item.class }] },
    entry: resources.map((r) => ({ fullUrl: ref(r), resource: r })),
  };
  const text = JSON.stringify(bundle);
  const sha256 = createHash('sha256').update(text).digest('hex');
  const folder = join(dir, item.recordDate.slice(0, 4));
  mkdirSync(folder, { recursive: true, mode: 0o700 });
  const file = join(folder, `${item.target.replace('/', '-')}.json`);
  writeFileSync(`${file}.partial`, text, { mode: 0o600 });
  renameSync(`${file}.partial`, file);
  await repo.transaction(async (tx) => {
    // Parts first, the record's head (Encounter / Patient) last: nothing is left pointing at a removed head.
    for (const r of [...resources].reverse()) await tx.delete(r.resourceType, r.id!);
    await tx.sql.query(
      'INSERT INTO retention_archive (target, retention_class, record_date, keep_until, resources, file, sha256) VALUES ($1, $2, $3, $4, $5, $6, $7)',
      [item.target, item.class, item.recordDate.slice(0, 10), item.keepUntil, resources.length, file, sha256],
    );
    await tx.record({
      action: 'retention.archive',
      resourceType: item.target.split('/')[0],
      resourceId: item.target.split('/')[1],
      patientIds: patients.map((p) => p.replace('Patient/', '')),
      detail: { class: item.class, recordDate: item.recordDate, keepUntil: item.keepUntil, resources: resources.length, sha256 },
    });
  });
}

/** Places a legal hold (patient or encounter); the job leaves what it covers alone until released. */
export async function placeHold(store: FhirStore, target: string, reason: string, by: string): Promise<number> {
  const repo = store.system(`giữ hồ sơ theo yêu cầu pháp lý (legal hold): ${reason}`, 'retention');
  return repo.transaction(async (tx) => {
    const id = (
      await tx.sql.query<{ id: number }>('INSERT INTO retention_hold (target, reason, placed_by) VALUES ($1, $2, $3) RETURNING id', [target, reason, by])
    ).rows[0].id;
    await tx.record({ action: 'retention.hold', detail: { hold: id, target, by } });
    return id;
  });
}

export async function releaseHold(store: FhirStore, id: number, by: string): Promise<boolean> {
  const repo = store.system('gỡ giữ hồ sơ (legal hold released)', 'retention');
  return repo.transaction(async (tx) => {
    const r = await tx.sql.query('UPDATE retention_hold SET released_at = now(), released_by = $2 WHERE id = $1 AND released_at IS NULL', [id, by]);
    if (r.rowCount) await tx.record({ action: 'retention.release', detail: { hold: id, by } });
    return r.rowCount > 0;
  });
}
