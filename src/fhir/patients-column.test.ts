/**
 * `resource.patients` (migration 240): every write path stores on the resource row the patients
 * whose data the resource is — the one-statement create, a create with the client's id, an update
 * that moves the resource to another patient, a batch written by COPY, reindexing — a deletion keeps
 * the last version's, and `fillPatients` (rows stored before the migration, or a change of the
 * compartment's link parameters) gives each row what the write path gives. On both databases.
 */
import { randomUUID } from 'node:crypto';
import type { Appointment, Encounter, Observation, Organization, Patient, Resource } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '../db/db.ts';
import { createTestDb, DB_KINDS } from '../testing/databases.ts';
import { fillPatients } from './patients-fill.ts';
import type { SearchRegistry } from './searchparams.ts';
import { FhirService } from './service.ts';
import type { FhirStorage } from './storage.ts';
import { setCopyMinimum } from './storage-copy.ts';

const observation = (subject: string, performer?: string): Observation => ({
  resourceType: 'Observation',
  status: 'final',
  code: { text: 'Mạch' },
  subject: { reference: `Patient/${subject}` },
  ...(performer ? { performer: [{ reference: performer }] } : {}),
});

describe.each(DB_KINDS)('resource.patients on %s', (kind) => {
  let db: Db;
  let drop: () => Promise<void>;
  let storage: FhirStorage;
  let linkParams: number[];
  let registry: SearchRegistry;
  const [a, b] = [randomUUID(), randomUUID()];

  const patientsOf = async (type: string, id: string) => {
    const r = await db.query<{ patients: string[] | null }>('SELECT patients FROM resource WHERE resource_type = $1 AND id = $2', [type, id]);
    return r.rows[0].patients === null ? null : [...r.rows[0].patients].sort();
  };

  beforeAll(async () => {
    ({ db, drop } = await createTestDb(kind));
    const prepared = await FhirService.prepare(db);
    storage = prepared.storage;
    registry = prepared.registry;
    linkParams = [...prepared.compartment.values()].flat();
    for (const id of [a, b]) await storage.update<Patient>({ resourceType: 'Patient', id, name: [{ family: 'Nguyễn', given: ['An'] }] });
  }, 120_000);
  afterAll(async () => drop?.());

  it('a Patient names itself; a resource of no patient names none', async () => {
    expect(await patientsOf('Patient', a)).toEqual([a]);
    const org = await storage.create<Organization>({ resourceType: 'Organization', name: 'Trạm Y tế xã An Bình' });
    expect(await patientsOf('Organization', org.id!)).toEqual([]);
  });

  it('create, update to another patient, two patients at once, a client id, and a deletion', async () => {
    const obs = await storage.create(observation(a));
    expect(await patientsOf('Observation', obs.id!)).toEqual([a]);
    // A performer that is a Patient puts the Observation in that patient's compartment too.
    await storage.update({ ...obs, subject: { reference: `Patient/${b}` }, performer: [{ reference: `Patient/${a}` }] });
    expect(await patientsOf('Observation', obs.id!)).toEqual([a, b].sort());
    await storage.update({ ...obs, subject: { reference: `Patient/${b}` } });
    expect(await patientsOf('Observation', obs.id!)).toEqual([b]);

    const appt = await storage.create<Appointment>({
      resourceType: 'Appointment',
      status: 'booked',
      start: '2026-12-04T08:00:00+07:00',
      end: '2026-12-04T08:30:00+07:00',
      participant: [
        { actor: { reference: `Patient/${a}` }, status: 'accepted' },
        { actor: { reference: `Patient/${b}` }, status: 'accepted' },
      ],
    });
    expect(await patientsOf('Appointment', appt.id!)).toEqual([a, b].sort());

    const encounterId = randomUUID();
    await storage.update<Encounter>({
      resourceType: 'Encounter',
      id: encounterId,
      status: 'finished',
      class: { code: 'VR' },
      subject: { reference: `Patient/${a}` },
    });
    expect(await patientsOf('Encounter', encounterId)).toEqual([a]);

    await storage.delete('Observation', obs.id!);
    expect(await patientsOf('Observation', obs.id!)).toEqual([b]);
  });

  it('a batch written by COPY stores each row’s patients', async () => {
    setCopyMinimum(2);
    try {
      const inputs: Resource[] = Array.from({ length: 20 }, (_, i) => observation(i % 2 ? a : b));
      const written = await db.transaction((tx) => storage.createMany(inputs, tx));
      for (const [i, r] of written.entries()) expect(await patientsOf('Observation', r.id!)).toEqual([i % 2 ? a : b]);
    } finally {
      setCopyMinimum(undefined);
    }
  });

  it('reindexing rewrites a row’s patients; filling gives every stored row what a fresh write gives', async () => {
    const obs = await storage.create(observation(a));
    await db.query("UPDATE resource SET patients = '{}' WHERE resource_type = 'Observation' AND id = $1", [obs.id]);
    await storage.reindexType('Observation');
    expect(await patientsOf('Observation', obs.id!)).toEqual([a]);

    // Every row as the write path left it (deleted ones included: they keep their last version's).
    const all = 'SELECT rid, patients FROM resource ORDER BY rid';
    const sorted = (rows: { rid: number; patients: string[] }[]) => rows.map((r) => ({ rid: Number(r.rid), patients: [...r.patients].sort() }));
    const before = sorted((await db.query<{ rid: number; patients: string[] }>(all)).rows);
    expect(before.some((r) => r.patients.length > 0)).toBe(true);

    // Today's basis stored: nothing to do at the next start.
    expect(await fillPatients(db, registry, linkParams)).toBe(0);
    // Rows as migration 240 finds them (no basis, the column nullable and empty): all filled as a write would.
    await db.exec('DELETE FROM resource_patients_basis; ALTER TABLE resource ALTER COLUMN patients DROP NOT NULL; UPDATE resource SET patients = NULL');
    expect(await fillPatients(db, registry, linkParams)).toBe(before.length);
    expect(sorted((await db.query<{ rid: number; patients: string[] }>(all)).rows)).toEqual(before);
    // The column is NOT NULL now: a writer that leaves it out fails instead of writing an unfilled row.
    await expect(db.query("INSERT INTO resource (resource_type, id, version_id, last_updated) VALUES ('Basic', 'x', 1, now())")).rejects.toThrow(/null/i);

    // A change of the compartment's link parameters recomputes every row: without Observation's
    // links, Observations name nobody; with them back, as before.
    const obsLinks = new Set(
      registry
        .forType('Observation')
        .filter((p) => p.patientLink)
        .map((p) => p.id),
    );
    await fillPatients(
      db,
      registry,
      linkParams.filter((id) => !obsLinks.has(id)),
    );
    expect(await patientsOf('Observation', obs.id!)).toEqual([]);
    await fillPatients(db, registry, linkParams);
    expect(sorted((await db.query<{ rid: number; patients: string[] }>(all)).rows)).toEqual(before);
  });
});
