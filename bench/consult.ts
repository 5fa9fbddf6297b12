/**
 * Case-conference latency: the triage queue and the case page (timeline) with a large store of
 * requests and meetings, measured in process through the consult service (role checks,
 * relationship checks and audit entries included; no HTTP).
 *
 * Needs a platform with the consult domain (`buildPlatform(config, { db, domains: ['consult'] })`).
 * The store is filled by the platform itself (a system repository, many resources per statement).
 */
import { randomUUID } from 'node:crypto';
import type { Appointment, Composition, Resource, ServiceRequest, Task } from '@medplum/fhirtypes';
import type { AccessContext } from '../src/auth/actor.ts';
import { CONSULT_CATEGORY, CONSULT_ID_SYSTEM, SPECIALTY_SYSTEM, STATE_SYSTEM } from '../src/consult/model.ts';
import { TASK_STATUS, type ConsultState } from '../src/consult/workflow.ts';
import type { Platform } from '../src/server.ts';
import { seedDemo } from '../src/seed/demo.ts';
import { median, percentile } from './lib.ts';

export interface ConsultBenchResult {
  queue: number[];
  timeline: number[];
  requests: number;
  meetings: number;
  loadSeconds: number;
}

type ConsultPlatform = Pick<Platform, 'store' | 'db' | 'accounts' | 'consults'>;

export async function benchConsult(
  p: ConsultPlatform,
  requests: number,
  meetings: number,
  samples: number,
  log: (m: string) => void,
): Promise<ConsultBenchResult> {
  const demo = await seedDemo(p.store, 50);
  const receivers = [demo.ids.organizations.bachmai, demo.ids.organizations.laocai, demo.ids.organizations.dienbien];
  const requesters = [demo.ids.organizations.batxat, demo.ids.organizations.simacai, demo.ids.organizations.muongnhe, demo.ids.organizations.tuachua];
  const load = p.store.system('consult benchmark: load', 'consult');
  const t0 = performance.now();
  const caseIds: string[] = [];
  const CHUNK = 1000;
  for (let i = 0; i < requests; i += CHUNK) {
    const cases = Array.from({ length: Math.min(requests, i + CHUNK) - i }, (_, k) => {
      const j = i + k;
      // Most cases are long finished; a few wait for triage or are being worked on.
      const state: ConsultState = j % 50 === 0 ? 'submitted' : j % 33 === 0 ? 'accepted' : 'closed';
      return {
        j,
        state,
        clientId: randomUUID(),
        patient: demo.ids.patients[j % demo.ids.patients.length],
        receiving: receivers[j % receivers.length],
        requesting: requesters[j % requesters.length],
        authoredOn: new Date(Date.now() - (requests - j) * 60_000).toISOString(),
        priority: j % 7 === 0 ? 'urgent' : 'routine',
      } as const;
    });
    // Three statements' worth per chunk: summaries, then the requests naming them, then the Tasks naming those.
    const summaries = await load.createMany(
      cases.map(
        (c) =>
          ({
            resourceType: 'Composition',
            status: 'final',
            type: { text: 'Tóm tắt bệnh án hội chẩn' },
            subject: { reference: `Patient/${c.patient}` },
            date: c.authoredOn,
            author: [{ display: 'bench' }],
            title: 'Tóm tắt',
            section: [{ title: 'Bệnh sử', text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml"><p>Đau ngực</p></div>' } }],
          }) as Composition,
      ),
    );
    const srs = await load.createMany(
      cases.map(
        (c, k) =>
          ({
            resourceType: 'ServiceRequest',
            identifier: [{ system: CONSULT_ID_SYSTEM, value: c.clientId }],
            status: c.state === 'closed' ? 'completed' : 'active',
            intent: 'order',
            category: [{ coding: [CONSULT_CATEGORY] }],
            code: { coding: [{ system: SPECIALTY_SYSTEM, code: 'cardiology', display: 'Tim mạch' }] },
            priority: c.priority,
            subject: { reference: `Patient/${c.patient}` },
            authoredOn: c.authoredOn,
            performer: [{ reference: `Organization/${c.receiving}` }],
            reasonCode: [{ text: 'Đau ngực' }],
            supportingInfo: [{ reference: `Composition/${summaries[k].id}` }],
          }) as ServiceRequest,
      ),
    );
    await load.createMany(
      cases.map(
        (c, k) =>
          ({
            resourceType: 'Task',
            identifier: [{ system: CONSULT_ID_SYSTEM, value: c.clientId }],
            status: TASK_STATUS[c.state] as Task['status'],
            businessStatus: { coding: [{ system: STATE_SYSTEM, code: c.state }] },
            intent: 'order',
            priority: c.priority,
            focus: { reference: `ServiceRequest/${srs[k].id}` },
            for: { reference: `Patient/${c.patient}` },
            authoredOn: c.authoredOn,
            lastModified: c.authoredOn,
            requester: { reference: `Organization/${c.requesting}` },
            owner: { reference: `Organization/${c.receiving}` },
            note: [{ authorString: 'bench', time: c.authoredOn, text: 'submit' }],
          }) as Task,
      ),
    );
    caseIds.push(...srs.map((s) => s.id!));
    if ((i / CHUNK) % 20 === 19) log(`consult requests loaded: ${i + CHUNK}`);
  }
  for (let i = 0; i < meetings; i += CHUNK) {
    const batch: Resource[] = [];
    for (let j = i; j < Math.min(meetings, i + CHUNK); j++) {
      const start = new Date(Date.now() - j * 3_600_000);
      batch.push({
        resourceType: 'Appointment',
        status: 'booked',
        serviceCategory: [{ coding: [CONSULT_CATEGORY] }],
        description: `Phiên ${j}`,
        start: start.toISOString(),
        end: new Date(start.getTime() + 3_600_000).toISOString(),
        basedOn: [{ reference: `ServiceRequest/${caseIds[(j * 10) % caseIds.length]}` }],
        participant: [{ actor: { reference: `Practitioner/${demo.ids.practitioners[0]}` }, status: 'accepted' }],
      } as Appointment);
    }
    await load.createMany(batch);
  }
  await p.db.exec('ANALYZE');
  const loadSeconds = (performance.now() - t0) / 1000;
  log(`consult store loaded in ${loadSeconds.toFixed(0)} s`);

  const account = await p.accounts.create({
    username: `bench.cons.${Date.now()}`,
    displayName: 'Bench specialist',
    kind: 'service',
    practitionerId: demo.ids.practitioners[0],
    roles: [{ role: 'specialist', organizationId: receivers[0] }],
  });
  const ctx: AccessContext = {
    actor: {
      via: 'bearer',
      accountId: account.id,
      username: account.username,
      role: 'specialist',
      organizationId: receivers[0],
      practitionerId: demo.ids.practitioners[0],
    },
  };
  const time = async (fn: () => Promise<unknown>) => {
    const t = performance.now();
    await fn();
    return performance.now() - t;
  };
  for (let i = 0; i < 5; i++) await p.consults.queue(ctx);
  const queue: number[] = [];
  for (let i = 0; i < samples; i++) queue.push(await time(() => p.consults.queue(ctx)));
  const mine = caseIds.filter((_, j) => receivers[j % receivers.length] === receivers[0]);
  const timeline: number[] = [];
  for (let i = 0; i < samples; i++) timeline.push(await time(() => p.consults.view(ctx, mine[(i * 7919) % mine.length])));
  log(
    `consult queue p50 ${median(queue).toFixed(1)} p95 ${percentile(queue, 95).toFixed(1)} ms; case page p50 ${median(timeline).toFixed(1)} p95 ${percentile(timeline, 95).toFixed(1)} ms`,
  );
  return { queue, timeline, requests, meetings, loadSeconds };
}
