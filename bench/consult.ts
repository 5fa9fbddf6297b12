/**
 * Case-conference latency: the triage queue and the case page (timeline) with a large store of
 * requests and sessions, measured in process through the service (role checks, relationship
 * checks and audit entries included; no HTTP).
 */
import { randomUUID } from 'node:crypto';
import type { Appointment, Composition, Resource, ServiceRequest, Task } from '@medplum/fhirtypes';
import type { AccessContext } from '../src/auth/actor.ts';
import { extractIndexRows } from '../src/fhir/searchparams.ts';
import { CONSULT_CATEGORY, STATE_SYSTEM } from '../src/consult/service.ts';
import { TASK_STATUS, type ConsultState } from '../src/consult/workflow.ts';
import type { buildServices } from '../src/server.ts';
import { seedDemo } from '../src/seed/demo.ts';
import { median, percentile } from './lib.ts';

type Services = Awaited<ReturnType<typeof buildServices>>;

export interface ConsultBenchResult {
  queue: number[];
  timeline: number[];
  requests: number;
  sessions: number;
  loadSeconds: number;
}

export async function benchConsult(s: Services, requests: number, sessions: number, samples: number, log: (m: string) => void): Promise<ConsultBenchResult> {
  const demo = await seedDemo(s.fhir, 50);
  const receivers = [demo.ids.organizations.bachmai, demo.ids.organizations.laocai, demo.ids.organizations.dienbien];
  const requesters = [demo.ids.organizations.batxat, demo.ids.organizations.simacai, demo.ids.organizations.muongnhe, demo.ids.organizations.tuachua];
  const lastUpdated = new Date().toISOString();
  const t0 = performance.now();
  const insert = async (resources: Resource[]) => {
    const prepared = resources.map((r) => ({ resource: { ...r, meta: { versionId: '1', lastUpdated } } as Resource, rows: extractIndexRows(r, s.fhir.registry.forType(r.resourceType)) }));
    await s.fhir.db.transaction((tx) => s.fhir.repo.insertPrepared(tx, prepared));
  };
  const caseIds: string[] = [];
  const CHUNK = 1000;
  for (let i = 0; i < requests; i += CHUNK) {
    const batch: Resource[] = [];
    for (let j = i; j < Math.min(requests, i + CHUNK); j++) {
      const patient = demo.ids.patients[j % demo.ids.patients.length];
      const receiving = receivers[j % receivers.length];
      const requesting = requesters[j % requesters.length];
      // Most cases are long finished; a few wait for triage or are being worked on.
      const state: ConsultState = j % 50 === 0 ? 'submitted' : j % 33 === 0 ? 'accepted' : 'closed';
      const summaryId = randomUUID();
      const srId = randomUUID();
      const authoredOn = new Date(Date.now() - (requests - j) * 60_000).toISOString();
      batch.push(
        { resourceType: 'Composition', id: summaryId, status: 'final', type: { text: 'Tóm tắt bệnh án hội chẩn' }, subject: { reference: `Patient/${patient}` }, date: authoredOn, author: [{ display: 'bench' }], title: 'Tóm tắt', section: [{ title: 'Bệnh sử', text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml"><p>Đau ngực</p></div>' } }] } as Composition,
        { resourceType: 'ServiceRequest', id: srId, identifier: [{ system: 'https://fhir.cauyte.vn/sid/consult-request', value: randomUUID() }], status: state === 'closed' ? 'completed' : 'active', intent: 'order', category: [{ coding: [CONSULT_CATEGORY] }], code: { coding: [{ system: 'https://fhir.cauyte.vn/CodeSystem/specialty', code: 'cardiology', display: 'Tim mạch' }] }, priority: j % 7 === 0 ? 'urgent' : 'routine', subject: { reference: `Patient/${patient}` }, authoredOn, performer: [{ reference: `Organization/${receiving}` }], reasonCode: [{ text: 'Đau ngực' }], supportingInfo: [{ reference: `Composition/${summaryId}` }] } as ServiceRequest,
        { resourceType: 'Task', id: randomUUID(), status: TASK_STATUS[state] as Task['status'], businessStatus: { coding: [{ system: STATE_SYSTEM, code: state }] }, intent: 'order', priority: j % 7 === 0 ? 'urgent' : 'routine', focus: { reference: `ServiceRequest/${srId}` }, for: { reference: `Patient/${patient}` }, authoredOn, lastModified: authoredOn, requester: { reference: `Organization/${requesting}` }, owner: { reference: `Organization/${receiving}` }, note: [{ authorString: 'bench', time: authoredOn, text: 'submit' }] } as Task,
      );
      caseIds.push(srId);
    }
    await insert(batch);
    if ((i / CHUNK) % 20 === 19) log(`consult requests loaded: ${i + CHUNK}`);
  }
  for (let i = 0; i < sessions; i += CHUNK) {
    const batch: Resource[] = [];
    for (let j = i; j < Math.min(sessions, i + CHUNK); j++) {
      const start = new Date(Date.now() - j * 3_600_000);
      batch.push({ resourceType: 'Appointment', id: randomUUID(), status: 'booked', serviceCategory: [{ coding: [CONSULT_CATEGORY] }], description: `Phiên ${j}`, start: start.toISOString(), end: new Date(start.getTime() + 3_600_000).toISOString(), basedOn: [{ reference: `ServiceRequest/${caseIds[(j * 10) % caseIds.length]}` }], participant: [{ actor: { reference: `Practitioner/${demo.ids.practitioners[0]}` }, status: 'accepted' }] } as Appointment);
    }
    await insert(batch);
  }
  await s.fhir.db.exec('ANALYZE');
  const loadSeconds = (performance.now() - t0) / 1000;
  log(`consult store loaded in ${loadSeconds.toFixed(0)} s`);

  const account = await s.accounts.create({ username: `bench.cons.${Date.now()}`, displayName: 'Bench specialist', kind: 'service', practitionerId: demo.ids.practitioners[0], roles: [{ role: 'specialist', organizationId: receivers[0] }] });
  const ctx: AccessContext = { actor: { via: 'bearer', accountId: account.id, username: account.username, role: 'specialist', organizationId: receivers[0], practitionerId: demo.ids.practitioners[0] } };
  const time = async (fn: () => Promise<unknown>) => {
    const t = performance.now();
    await fn();
    return performance.now() - t;
  };
  for (let i = 0; i < 5; i++) await s.consults.queue(ctx);
  const queue: number[] = [];
  for (let i = 0; i < samples; i++) queue.push(await time(() => s.consults.queue(ctx)));
  const mine = caseIds.filter((_, j) => receivers[j % receivers.length] === receivers[0]);
  const timeline: number[] = [];
  for (let i = 0; i < samples; i++) timeline.push(await time(() => s.consults.view(ctx, mine[(i * 7919) % mine.length])));
  log(`consult queue p50 ${median(queue).toFixed(1)} p95 ${percentile(queue, 95).toFixed(1)} ms; case page p50 ${median(timeline).toFixed(1)} p95 ${percentile(timeline, 95).toFixed(1)} ms`);
  return { queue, timeline, requests, sessions, loadSeconds };
}
