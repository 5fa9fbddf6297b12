/**
 * The retention job on generated records of every class, each just inside and just past its
 * period, plus legal holds: exactly the expired, unheld records are archived; a dry run reports
 * the same and changes nothing; every archive is audited.
 */
import { mkdtempSync, readFileSync, rmSync, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Encounter, Resource } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestPlatform, type TestPlatform } from '../testing/platform.ts';
import { DB_KINDS } from '../testing/databases.ts';
import { CIRCULAR_33_2025, loadRetentionRules } from './retention-rules.ts';
import { placeHold, releaseHold, runRetention } from './retention.ts';

const NOW = new Date('2026-11-30T00:00:00Z');
const yearsAgo = (y: number, extraDays = 0) => {
  const d = new Date(NOW);
  d.setUTCFullYear(d.getUTCFullYear() - y);
  d.setUTCDate(d.getUTCDate() - extraDays);
  return d.toISOString().slice(0, 10);
};
const ICD = 'http://hl7.org/fhir/sid/icd-10';

describe.each(DB_KINDS)('retention (%s)', (kind) => {
  let p: TestPlatform;
  const tmp = mkdtempSync(join(tmpdir(), 'cauyte-retention-'));
  const ids: Record<string, string> = {};
  let patientA: string, patientHeld: string, deadLong: string, deadRecent: string;

  async function encounter(name: string, patient: string, ended: string, extra: Partial<Encounter> = {}, condition?: string): Promise<void> {
    const e = await p.fixtures.create<Encounter>({
      resourceType: 'Encounter',
      status: 'finished',
      class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
      subject: { reference: patient },
      period: { start: ended, end: ended },
      ...extra,
    });
    ids[name] = `Encounter/${e.id}`;
    await p.fixtures.create({
      resourceType: 'Observation',
      status: 'final',
      code: { text: 'Mạch' },
      subject: { reference: patient },
      encounter: { reference: `Encounter/${e.id}` },
      valueQuantity: { value: 80, unit: '/min' },
    });
    if (condition)
      await p.fixtures.create({
        resourceType: 'Condition',
        subject: { reference: patient },
        encounter: { reference: `Encounter/${e.id}` },
        code: { coding: [{ system: ICD, code: condition }] },
      });
  }

  async function snapshot(): Promise<string> {
    const r = await p.db.query<{ n: number; v: number; d: number }>(
      'SELECT count(*)::int AS n, sum(version_id)::int AS v, count(*) FILTER (WHERE deleted)::int AS d FROM resource',
    );
    return JSON.stringify(r.rows[0]);
  }

  async function deleted(target: string): Promise<boolean> {
    const [type, id] = target.split('/');
    return (await p.db.query<{ deleted: boolean }>('SELECT deleted FROM resource WHERE resource_type = $1 AND id = $2', [type, id])).rows[0].deleted;
  }

  beforeAll(async () => {
    p = await startTestPlatform(kind, {}, undefined, { domains: [] });
    const patient = async (extra: Record<string, unknown> = {}) =>
      `Patient/${(await p.fixtures.create({ resourceType: 'Patient', name: [{ family: 'Đặng', given: ['Văn Bình'] }], ...extra } as Resource)).id}`;
    patientA = await patient();
    patientHeld = await patient();
    deadLong = await patient({ deceasedDateTime: `${yearsAgo(10, 30)}T08:00:00Z` });
    deadRecent = await patient({ deceasedDateTime: `${yearsAgo(9)}T08:00:00Z` });
    await encounter('ordinaryOld', patientA, yearsAgo(10, 5));
    await encounter('ordinaryYoung', patientA, yearsAgo(9, 300));
    await encounter('mentalYoung', patientA, yearsAgo(19, 300), { reasonCode: [{ coding: [{ system: ICD, code: 'F32.1' }] }] });
    await encounter('mentalOld', patientA, yearsAgo(20, 5), { reasonCode: [{ coding: [{ system: ICD, code: 'F20' }] }] });
    await encounter('accidentYoung', patientA, yearsAgo(15), {}, 'S72.0');
    await encounter('accidentOld', patientA, yearsAgo(20, 5), {}, 'V43.5');
    const died = {
      hospitalization: { dischargeDisposition: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/discharge-disposition', code: 'exp' }] } },
    };
    await encounter('deathYoung', patientA, yearsAgo(29, 300), died);
    await encounter('deathOld', patientA, yearsAgo(30, 5), died);
    await encounter('incident', patientA, yearsAgo(45));
    await p.fixtures.create({
      resourceType: 'AdverseEvent',
      actuality: 'actual',
      subject: { reference: patientA },
      encounter: { reference: ids.incident },
      date: `${yearsAgo(45)}T10:00:00Z`,
    } as Resource);
    await encounter('heldByPatient', patientHeld, yearsAgo(12));
    await encounter('heldByEncounter', patientA, yearsAgo(12));
    await placeHold(p.store, patientHeld, 'Tòa án yêu cầu giữ hồ sơ (court order)', 'test');
    await placeHold(p.store, ids.heldByEncounter, 'Đang thanh tra (inspection)', 'test');
    const released = await placeHold(p.store, ids.ordinaryOld, 'Giữ tạm (released later)', 'test');
    expect(await releaseHold(p.store, released, 'test')).toBe(true);
  }, 120_000);
  afterAll(async () => {
    await p?.close();
    rmSync(tmp, { recursive: true, force: true });
  });

  const expectedArchive = () => [ids.ordinaryOld, ids.mentalOld, ids.accidentOld, ids.deathOld, deadLong].sort();

  it('a dry run reports exactly the expired, unheld records and changes nothing', async () => {
    const before = await snapshot();
    const r = await runRetention(p.store, { rules: CIRCULAR_33_2025, archiveDir: join(tmp, 'archive'), dryRun: true, now: NOW });
    expect(
      r.items
        .filter((i) => i.action === 'archive')
        .map((i) => i.target)
        .sort(),
    ).toEqual(expectedArchive());
    expect(
      r.items
        .filter((i) => i.action === 'hold')
        .map((i) => i.target)
        .sort(),
    ).toEqual([ids.heldByPatient, ids.heldByEncounter].sort());
    expect(r.items.find((i) => i.target === ids.mentalOld)?.class).toBe('mental_health');
    expect(r.items.find((i) => i.target === ids.accidentOld)?.class).toBe('accident');
    expect(r.items.find((i) => i.target === ids.deathOld)?.class).toBe('death');
    expect(r.items.find((i) => i.target === deadLong)?.class).toBe('health_book');
    expect(await snapshot()).toBe(before);
    expect(existsSync(join(tmp, 'archive'))).toBe(false);
  });

  it('the run archives exactly those: files written, records removed, each audited; the rest untouched', async () => {
    const r = await runRetention(p.store, { rules: CIRCULAR_33_2025, archiveDir: join(tmp, 'archive'), dryRun: false, now: NOW });
    expect(
      r.items
        .filter((i) => i.action === 'archive')
        .map((i) => i.target)
        .sort(),
    ).toEqual(expectedArchive());
    expect(r.archived).toBe(5);
    for (const t of expectedArchive()) expect(await deleted(t), t).toBe(true);
    for (const name of ['ordinaryYoung', 'mentalYoung', 'accidentYoung', 'deathYoung', 'incident', 'heldByPatient', 'heldByEncounter'])
      expect(await deleted(ids[name]), name).toBe(false);
    expect(await deleted(patientA)).toBe(false);
    expect(await deleted(deadRecent)).toBe(false);
    // The archived episode's observation went with it; the kept ones' stayed.
    const obs = await p.db.query<{ deleted: boolean; n: number }>(
      "SELECT r.deleted, count(*)::int AS n FROM resource r WHERE r.resource_type = 'Observation' GROUP BY r.deleted ORDER BY r.deleted",
    );
    expect(obs.rows).toEqual([
      { deleted: false, n: 7 },
      { deleted: true, n: 4 },
    ]);
    const rows = (await p.db.query<{ target: string; file: string }>('SELECT target, file FROM retention_archive ORDER BY target')).rows;
    expect(rows.map((x) => x.target).sort()).toEqual(expectedArchive());
    const bundle = JSON.parse(readFileSync(rows.find((x) => x.target === ids.mentalOld)!.file, 'utf8'));
    expect(bundle.entry.map((e: { resource: Resource }) => e.resource.resourceType).sort()).toEqual(['Encounter', 'Observation']);
    const audited = (await p.db.query<{ n: number }>("SELECT count(*)::int AS n FROM audit_log WHERE action = 'retention.archive' AND reason LIKE '%33/2025%'"))
      .rows[0].n;
    expect(audited).toBe(5);
    // Run again: nothing more to do.
    const again = await runRetention(p.store, { rules: CIRCULAR_33_2025, archiveDir: join(tmp, 'archive'), dryRun: false, now: NOW });
    expect(again.archived).toBe(0);
    await p.audit.seal();
    expect((await p.audit.verify()).ok).toBe(true);
  }, 120_000);
});

describe('retention rules as data', () => {
  it('may lengthen a period, never shorten one or make a permanent one finite', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cauyte-rules-'));
    const f = (o: unknown) => {
      const file = join(dir, `${Math.random()}.json`);
      writeFileSync(file, JSON.stringify(o));
      return file;
    };
    expect(loadRetentionRules(f({ ordinary: 15 })).ordinary).toBe(15);
    expect(() => loadRetentionRules(f({ ordinary: 5 }))).toThrow(/at least 10/);
    expect(() => loadRetentionRules(f({ incident: 50 }))).toThrow(/permanently/);
    rmSync(dir, { recursive: true, force: true });
  });
});
