/** Standard FHIR clients written by others drive our API over real HTTP. */
import { MedplumClient } from '@medplum/core';
import type { Bundle, Observation, Patient } from '@medplum/fhirtypes';
import { Client } from 'fhir-kit-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DB_KINDS } from '../testing/databases.ts';
import { startTestPlatform, type TestPlatform } from '../testing/platform.ts';

describe.each(DB_KINDS)('standard FHIR clients on %s', (kind) => {
  let p: TestPlatform;
  let baseUrl: string;
  beforeAll(async () => {
    p = await startTestPlatform(kind, {}, undefined, { domains: [] });
    baseUrl = await p.listen();
  });
  afterAll(async () => p?.close());

  it('@medplum/core MedplumClient creates, reads, updates, searches and posts a transaction', async () => {
    const medplum = new MedplumClient({ baseUrl, fhirUrlPath: 'fhir/R4', fetch: globalThis.fetch.bind(globalThis), cacheTime: 0 });
    medplum.setAccessToken(p.token);
    const created = await medplum.createResource<Patient>({ resourceType: 'Patient', name: [{ family: 'Hoàng', given: ['Thị', 'Lan'] }], gender: 'female' });
    expect(created.id).toBeDefined();
    const read = await medplum.readResource('Patient', created.id!);
    expect(read.name?.[0].family).toBe('Hoàng');
    const updated = await medplum.updateResource<Patient>({ ...read, birthDate: '1970-03-08' });
    expect(updated.meta?.versionId).toBe('2');
    const found = await medplum.searchResources('Patient', { name: 'hoang thi lan' });
    expect(found.map((r) => r.id)).toEqual([created.id]);
    const tx = await medplum.executeBatch({
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        {
          fullUrl: 'urn:uuid:7d7b2a4e-0000-4000-8000-000000000001',
          resource: { resourceType: 'Patient', name: [{ family: 'Lò', given: ['Văn', 'Páo'] }] },
          request: { method: 'POST', url: 'Patient' },
        },
        {
          resource: {
            resourceType: 'Observation',
            status: 'final',
            code: { coding: [{ system: 'http://loinc.org', code: '8867-4' }] },
            subject: { reference: 'urn:uuid:7d7b2a4e-0000-4000-8000-000000000001' },
            valueQuantity: { value: 88, unit: '/min', system: 'http://unitsofmeasure.org', code: '/min' },
          },
          request: { method: 'POST', url: 'Observation' },
        },
      ],
    });
    expect(tx.entry?.map((e) => e.response?.status)).toEqual(['201 Created', '201 Created']);
    const obs = tx.entry![1].resource as Observation;
    expect(obs.subject?.reference).toBe(`Patient/${tx.entry![0].resource!.id}`);
    const bundle = await medplum.search('Observation', { subject: obs.subject!.reference!, _include: 'Observation:subject' });
    expect(bundle.entry?.map((e) => e.resource?.resourceType)).toEqual(['Observation', 'Patient']);
  });

  it('fhir-kit-client creates, reads, updates, searches, pages and posts a transaction', async () => {
    const client = new Client({ baseUrl: `${baseUrl}/fhir/R4`, bearerToken: p.token });
    const meta = (await client.capabilityStatement()) as unknown as { fhirVersion: string };
    expect(meta.fhirVersion).toBe('4.0.1');
    const created = (await client.create({
      resourceType: 'Patient',
      body: { resourceType: 'Patient', name: [{ family: 'Vũ', given: ['Minh', 'Đức'] }] },
    })) as Patient;
    const read = (await client.read({ resourceType: 'Patient', id: created.id! })) as Patient;
    expect(read.name?.[0].given).toEqual(['Minh', 'Đức']);
    const updated = (await client.update({ resourceType: 'Patient', id: created.id!, body: { ...read, gender: 'male' } })) as Patient;
    expect(updated.gender).toBe('male');
    for (let i = 0; i < 5; i++)
      await client.create({ resourceType: 'Patient', body: { resourceType: 'Patient', name: [{ family: 'Vũ', given: [`Con${i}`] }] } });
    const first = (await client.search({ resourceType: 'Patient', searchParams: { family: 'vu', _count: 2 } })) as unknown as Bundle;
    expect(first.entry).toHaveLength(2);
    const seen = [...first.entry!];
    let page: Bundle | undefined = first;
    while ((page = (await client.nextPage({ bundle: page as never })) as unknown as Bundle | undefined)) seen.push(...(page.entry ?? []));
    expect(new Set(seen.map((e) => e.resource!.id)).size).toBe(6);
    const tx = (await client.transaction({
      body: {
        resourceType: 'Bundle',
        type: 'transaction',
        entry: [{ resource: { resourceType: 'Patient', name: [{ family: 'Bùi' }] }, request: { method: 'POST', url: 'Patient' } }],
      },
    })) as unknown as Bundle;
    expect(tx.type).toBe('transaction-response');
    const err = (await client.read({ resourceType: 'Patient', id: 'missing' }).catch((e: { response: unknown }) => e.response)) as {
      status: number;
      data: { resourceType: string };
    };
    expect(err.status).toBe(404);
    expect(err.data.resourceType).toBe('OperationOutcome');
  });
});
