/**
 * Attacker's review of decision support (2026-11-30), kept as tests. Each `it` asserts the secure
 * behaviour and failed on the code as reviewed.
 *
 * A1. An approved CDS service's prefetch templates are not confined to the hook's patient: a
 *     template with no patient filter (`Observation?_count=100`, `Patient?_count=100`) or naming a
 *     fixed id (`Patient/<someone else>`) was filled through the clinician's repository, so every
 *     record the clinician could read at their facility left for the service, while the audit row
 *     and the citizen's access log named only the patient whose chart was open.
 * A7. The CDS client followed redirects: a registered service's address could send discovery (and
 *     the hook call, with its prefetch) on to any other address — an internal one the platform
 *     reaches and the administrator never registered (SSRF; the patient data to an unapproved
 *     host). Redirects are refused.
 * A9. The appointment-book hook put the appointment named in the request into the context sent
 *     to the services without checking whose it was: any appointment the clinician can read
 *     (another patient's) left for the service under the open patient's name in the audit.
 * A3. A card's `source.url` was kept as the service sent it and the clinician's screen renders it
 *     as `<a href>`: a `javascript:` URL from a service (the card's links were already limited to
 *     http(s), the source link was not).
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDemoAccounts, type DemoAccount } from '../seed/accounts.ts';
import { seedDemo, type DemoSummary } from '../seed/demo.ts';
import { checkCard } from './client.ts';
import type { ServiceRow } from './registry.ts';
import { call, signIn, startTestPlatform, type TestPlatform } from '../testing/platform.ts';

/** A CDS server whose one service asks for more than the open chart. */
function greedyServer(prefetch: Record<string, string>, hook = 'patient-view', id = 'greedy') {
  const seen: { path: string; body: any }[] = [];
  const read = (req: IncomingMessage) =>
    new Promise<any>((resolve) => {
      let text = '';
      req.on('data', (c) => (text += c));
      req.on('end', () => resolve(text ? JSON.parse(text) : undefined));
    });
  const server: Server = createServer(async (req, res) => {
    const body = await read(req);
    seen.push({ path: req.url ?? '', body });
    res.writeHead(200, { 'content-type': 'application/json' });
    if (req.method === 'GET' && req.url === '/cds-services')
      return res.end(JSON.stringify({ services: [{ hook, id, title: 'Greedy', description: 'x', prefetch }] }));
    res.end(JSON.stringify({ cards: [] }));
  });
  return {
    seen,
    async start(): Promise<string> {
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    },
    close: () => new Promise((r) => server.close(r)),
  };
}

/** Every patient a prefetch value is about (Patient ids, and the subject/patient of the rest). */
function patientsIn(v: Resource | Bundle | null): string[] {
  if (!v) return [];
  const list: Resource[] = v.resourceType === 'Bundle' ? ((v as Bundle).entry ?? []).map((e) => e.resource!) : [v];
  return list.map((r) => {
    if (r.resourceType === 'Patient') return r.id!;
    const ref =
      (r as { subject?: { reference?: string }; patient?: { reference?: string } }).subject?.reference ??
      (r as { patient?: { reference?: string } }).patient?.reference;
    return ref?.split('/')[1] ?? '?';
  });
}

describe('attack review: decision support', () => {
  let p: TestPlatform;
  let demo: DemoSummary;
  let accounts: Map<string, DemoAccount>;
  let doctor: Record<string, string>;
  let admin: Record<string, string>;
  let an: string;
  const json = { 'content-type': 'application/json' };
  const as = (h: Record<string, string>, method: string, url: string, body?: unknown) => call(p, method, url, body, body === undefined ? h : { ...h, ...json });

  beforeAll(async () => {
    p = await startTestPlatform('pglite', {}, undefined, { domains: ['family', 'consult', 'visits', 'chart', 'cds'] });
    demo = await seedDemo(p.store, 8);
    accounts = new Map((await createDemoAccounts(p.db, p.accounts, demo)).accounts.map((a) => [a.username, a]));
    an = demo.ids.patients[0];
    doctor = await signIn(p, 'bs.batxat', accounts.get('bs.batxat')!.totpSecret);
    admin = await signIn(p, 'quantri', accounts.get('quantri')!.totpSecret);
  }, 120_000);
  afterAll(async () => p?.close());

  it('A1. the prefetch sent to an approved service holds only the open chart’s patient (no unfiltered search, no fixed id of someone else)', async () => {
    // Someone else the Bát Xát doctor can read (same facility): the prefetch must still not carry them.
    const batxat = demo.ids.organizations.batxat;
    const sameSite = await p.fixtures.search<Resource>('Patient', { organization: `Organization/${batxat}` });
    const neighbour = sameSite.map((x) => x.id!).find((id) => id !== an)!;
    expect(neighbour, 'a second Bát Xát patient').toBeDefined();
    const greedy = greedyServer({
      patient: 'Patient/{{context.patientId}}',
      everyone: 'Patient?_count=100',
      fixed: `Patient/${neighbour}`,
      observations: 'Observation?_count=100',
      byName: 'Observation?subject:Patient.gender=female',
    });
    const base = await greedy.start();
    try {
      const reg = await as(admin, 'POST', '/api/cds/registry', {
        baseUrl: base,
        serviceId: 'greedy',
        name: 'Greedy',
        version: '1.0',
        vendor: 'Attacker',
        intendedUse: 'Shows reminders for the open patient',
        riskClass: 'A',
        allowedHooks: ['patient-view'],
        dataScopes: ['Patient', 'Observation'],
      });
      expect(reg.status, reg.text).toBe(201);
      const ok = await as(admin, 'POST', `/api/cds/registry/${reg.body.id}/status`, {
        status: 'approved',
        reason: 'Study reviewed',
        evidence: { title: 'Validation study 2026 (internal test set)', url: 'https://example.org/study.pdf' },
      });
      expect(ok.status, ok.text).toBe(200);

      const fired = await as(doctor, 'POST', '/api/cds/hooks/patient-view', { patientId: an });
      expect(fired.status, fired.text).toBe(200);
      const sent = greedy.seen.find((s) => s.path === '/cds-services/greedy')?.body;
      expect(sent, 'the service was called').toBeDefined();
      expect(sent.prefetch.patient?.id).toBe(an); // the legitimate part still works
      const about = Object.entries(sent.prefetch as Record<string, Resource | Bundle | null>).flatMap(([key, v]) =>
        patientsIn(v).map((pid) => `${key}:${pid}`),
      );
      const others = about.filter((x) => !x.endsWith(`:${an}`));
      expect(others, `records of other patients left for the service: ${others.slice(0, 8).join(', ')}`).toEqual([]);
    } finally {
      await greedy.close();
    }
  });

  it('A9. appointment-book sends an appointment only when it is the hook patient’s', async () => {
    const batxat = demo.ids.organizations.batxat;
    const sameSite = await p.fixtures.search<Resource>('Patient', { organization: `Organization/${batxat}` });
    const neighbour = sameSite.map((x) => x.id!).find((id) => id !== an)!;
    const theirs = await p.fixtures.create<Resource>({
      resourceType: 'Appointment',
      status: 'booked',
      description: 'Khám thai định kỳ',
      start: '2026-12-10T02:00:00Z',
      end: '2026-12-10T02:30:00Z',
      participant: [{ actor: { reference: `Patient/${neighbour}` }, status: 'accepted' }],
    } as Resource);
    const svc = greedyServer({}, 'appointment-book', 'booker');
    const base = await svc.start();
    try {
      const reg = await as(admin, 'POST', '/api/cds/registry', {
        baseUrl: base,
        serviceId: 'booker',
        name: 'Booker',
        version: '1.0',
        vendor: 'Attacker',
        intendedUse: 'Checks bookings for the open patient',
        riskClass: 'A',
        allowedHooks: ['appointment-book'],
        dataScopes: [],
      });
      expect(reg.status, reg.text).toBe(201);
      const ok = await as(admin, 'POST', `/api/cds/registry/${reg.body.id}/status`, {
        status: 'approved',
        reason: 'Study reviewed',
        evidence: { title: 'Validation study 2026 (internal test set)', url: 'https://example.org/study.pdf' },
      });
      expect(ok.status, ok.text).toBe(200);
      const fired = await as(doctor, 'POST', '/api/cds/hooks/appointment-book', { patientId: an, appointmentId: theirs.id });
      expect(fired.status, fired.text).toBe(200);
      const sent = svc.seen.find((s) => s.path === '/cds-services/booker')?.body;
      expect(sent, 'the service was called').toBeDefined();
      expect(JSON.stringify(sent.context), 'another patient’s appointment in the context').not.toContain(neighbour);
    } finally {
      await svc.close();
    }
  });

  it('A7. discovery does not follow a redirect to an address nobody registered (hook and feedback calls refuse redirects the same way)', async () => {
    const internal = greedyServer({ patient: 'Patient/{{context.patientId}}' });
    const inside = await internal.start();
    const hop: Server = createServer((req, res) => {
      res.writeHead(req.method === 'GET' ? 302 : 307, { location: `${inside}${req.url}` });
      res.end();
    });
    await new Promise<void>((r) => hop.listen(0, '127.0.0.1', r));
    const outside = `http://127.0.0.1:${(hop.address() as AddressInfo).port}`;
    try {
      const disc = await as(admin, 'POST', '/api/cds/registry/discover', { baseUrl: outside });
      expect(disc.status, `discovery through a redirect: ${disc.text}`).toBe(502);
      expect(internal.seen.length, 'the internal address was not reached').toBe(0);
    } finally {
      await new Promise((r) => hop.close(r));
      await internal.close();
    }
  });
});

describe('attack review: cards', () => {
  it('A3. a card keeps only an http(s) source link', () => {
    const service = { id: 's', name: 'S', version: '1', vendor: 'V', risk_class: 'A' } as unknown as ServiceRow;
    const card = (url: string) => checkCard({ summary: 'x', indicator: 'info', source: { label: 'Guideline', url } }, 'c1', service);
    expect(card('https://example.org/guideline')?.source.url).toBe('https://example.org/guideline');
    for (const bad of ['javascript:alert(document.cookie)', 'JaVaScRiPt:alert(1)', 'data:text/html,<script>alert(1)</script>', ' javascript:alert(1)'])
      expect(card(bad)?.source.url, bad).toBeUndefined();
  });
});
