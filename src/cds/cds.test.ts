/**
 * Decision support through the HTTP API: the system administrator discovers, registers and
 * approves CDS services; a clinician's hooks call only approved services (a proposed one never,
 * a suspended one from the next call on); a service slower than 1 s is dropped and its error
 * counted; the bundled service flags a drug the patient is allergic to (critical card); an
 * override needs a reason and its feedback reaches the service; an accepted suggestion becomes a
 * draft with a Provenance naming the service as a Device, and keeps it once a doctor confirms it;
 * prefetch is limited to the approved data scopes; every call is in the audit trail and in the
 * citizen's access log. Denials: another facility's clinician, a citizen, a clinician on the
 * registry, another clinician on someone else's card.
 * A second CDS server, written here only from the CDS Hooks 2.0 specification (node:http, no
 * code of ours), works unchanged.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { MedicationRequest, Provenance } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DemoSummary } from '../seed/demo.ts';
import { registerApproved as registerApprovedAs, startCdsTestPlatform } from '../testing/cds.ts';
import { call, type TestPlatform } from '../testing/platform.ts';
import { buildBundledServer, type FeedbackItem } from './bundled/server.ts';
import type { AccessLogEntry } from '../audit/contract.ts';
import type { Accepted, Confirmed, HookResult, ServiceView } from './contract.ts';

/** A CDS Hooks server written from the specification only: discovery, one patient-view service, feedback. */
function specServer(opts: { delayMs?: number } = {}) {
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
    const send = (status: number, json: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(json));
    };
    if (req.method === 'GET' && req.url === '/cds-services')
      return send(200, {
        services: [
          {
            hook: 'patient-view',
            id: 'spec-allergy-reminder',
            title: 'Allergy reminder',
            description: 'Reminds of recorded allergies',
            prefetch: { patient: 'Patient/{{context.patientId}}', allergies: 'AllergyIntolerance?patient={{context.patientId}}' },
          },
        ],
      });
    if (req.method === 'POST' && req.url === '/cds-services/spec-allergy-reminder') {
      if (opts.delayMs) await new Promise((r) => setTimeout(r, opts.delayMs));
      const allergies = body?.prefetch?.allergies?.entry ?? [];
      return send(200, {
        cards: [
          {
            uuid: 'spec-card-1',
            summary: `${allergies.length} allergy record(s) received`,
            indicator: 'info',
            source: { label: 'Spec-only test service' },
            suggestions: [
              {
                label: 'Order an allergy review',
                uuid: 'spec-sugg-1',
                actions: [
                  {
                    type: 'create',
                    description: 'Allergy review request',
                    resource: {
                      resourceType: 'ServiceRequest',
                      status: 'draft',
                      intent: 'proposal',
                      code: { text: 'Allergy review' },
                      subject: { reference: 'Patient/someone-else' },
                    },
                  },
                ],
              },
            ],
          },
        ],
        systemActions: [{ type: 'update', description: 'Mark allergy verified', resource: { resourceType: 'AllergyIntolerance', id: 'x' } }],
      });
    }
    if (req.method === 'POST' && req.url === '/cds-services/spec-allergy-reminder/feedback') return send(200, {});
    send(404, {});
  });
  return {
    seen,
    calls: () => seen.filter((s) => s.path === '/cds-services/spec-allergy-reminder').length,
    async start(): Promise<string> {
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    },
    close: () => new Promise((r) => server.close(r)),
  };
}

describe('decision support (CDS Hooks)', () => {
  let p: TestPlatform;
  let demo: DemoSummary;
  let doctor: Record<string, string>;
  let stranger: Record<string, string>;
  let citizen: Record<string, string>;
  let admin: Record<string, string>;
  let bundled: ReturnType<typeof buildBundledServer>;
  let bundledUrl: string;
  let an: string;
  const json = { 'content-type': 'application/json' };
  const as = (h: Record<string, string>, method: string, url: string, body?: unknown) => call(p, method, url, body, body === undefined ? h : { ...h, ...json });
  const evidence = { title: 'Validation study 2026 (internal test set)', url: 'https://example.org/study.pdf' };

  const registerApproved = (baseUrl: string, serviceId: string, hook: string, scopes: string[]) =>
    registerApprovedAs(p, admin, {
      baseUrl,
      serviceId,
      hook,
      scopes,
      vendor: 'Test vendor',
      intendedUse: 'Checks prescriptions for safety in tests',
      evidence,
    });

  beforeAll(async () => {
    ({ p, demo, an, doctor, admin, citizen, stranger, bundled, bundledUrl } = await startCdsTestPlatform('pglite'));
  }, 120_000);
  afterAll(async () => {
    await bundled?.app.close();
    await p?.close();
  });

  it('discovers, registers as proposed, never calls an unapproved service, calls it once approved, stops at once when suspended', async () => {
    const spec = specServer();
    const base = await spec.start();
    try {
      const disc = await as(admin, 'POST', '/api/cds/registry/discover', { baseUrl: base });
      expect(disc.status, disc.text).toBe(200);
      expect(disc.body.services.map((s: { id: string }) => s.id)).toEqual(['spec-allergy-reminder']);
      const reg = await as(admin, 'POST', '/api/cds/registry', {
        baseUrl: base,
        serviceId: 'spec-allergy-reminder',
        name: 'Spec reminder',
        version: '0.1',
        vendor: 'Spec Inc.',
        intendedUse: 'Reminds clinicians of recorded allergies',
        riskClass: 'A',
        allowedHooks: ['patient-view'],
        dataScopes: ['Patient', 'AllergyIntolerance'],
      });
      expect(reg.status, reg.text).toBe(201);
      const id = (reg.body as ServiceView).id;
      expect(reg.body.status).toBe('proposed');

      // Proposed: never called.
      const r1 = await as(doctor, 'POST', '/api/cds/hooks/patient-view', { patientId: an });
      expect(r1.status, r1.text).toBe(200);
      expect(spec.calls()).toBe(0);
      expect((r1.body as HookResult).cards.some((c) => c.service.id === id)).toBe(false);

      // Approval needs the validation study.
      const noStudy = await as(admin, 'POST', `/api/cds/registry/${id}/status`, { status: 'approved', reason: 'Looks fine' });
      expect(noStudy.status).toBe(400);
      const approved = await as(admin, 'POST', `/api/cds/registry/${id}/status`, { status: 'approved', reason: 'Study reviewed', evidence });
      expect(approved.status, approved.text).toBe(200);
      expect(approved.body).toMatchObject({ status: 'approved', approvedBy: 'quantri', evidence: { title: evidence.title } });

      const r2 = await as(doctor, 'POST', '/api/cds/hooks/patient-view', { patientId: an });
      expect(spec.calls()).toBe(1);
      const card = (r2.body as HookResult).cards.find((c) => c.service.id === id)!;
      expect(card).toMatchObject({
        summary: '1 allergy record(s) received',
        source: { label: 'Spec-only test service' },
        service: { name: 'Spec reminder', vendor: 'Spec Inc.' },
      });
      // The request the service got follows the spec: hook, hookInstance, context, prefetch filled as asked.
      const sent = spec.seen.find((s) => s.path === '/cds-services/spec-allergy-reminder')!.body;
      expect(sent).toMatchObject({ hook: 'patient-view', context: { patientId: an, userId: expect.stringMatching(/^Practitioner\//) } });
      expect(sent.hookInstance).toMatch(/^[0-9a-f-]{36}$/);
      expect(sent.prefetch.patient.resourceType).toBe('Patient');
      expect(sent.prefetch.allergies.entry[0].resource.code.text).toBe('Penicillin');
      expect(sent.fhirServer).toBeUndefined();
      // A system action is shown, never applied.
      expect((r2.body as HookResult).systemActions).toEqual([
        { service: 'Spec reminder', type: 'update', description: 'Mark allergy verified', resourceType: 'AllergyIntolerance' },
      ]);

      // Accepting its suggestion: a draft about the card's patient (not the one the service wrote), with a Device Provenance.
      const acc = await as(doctor, 'POST', `/api/cds/cards/${card.id}/accept`, { suggestion: 'spec-sugg-1' });
      expect(acc.status, acc.text).toBe(200);
      const drafts = (acc.body as Accepted).drafts;
      expect(drafts).toHaveLength(1);
      const sr = await p.fixtures.read<any>('ServiceRequest', drafts[0].split('/')[1]);
      expect(sr).toMatchObject({ status: 'draft', subject: { reference: `Patient/${an}` } });
      expect(acc.body.feedback).toBe('sent');
      const fb = spec.seen.find((s) => s.path.endsWith('/feedback'))!.body;
      expect(fb.feedback[0]).toMatchObject({ card: 'spec-card-1', outcome: 'accepted', acceptedSuggestions: [{ id: 'spec-sugg-1' }] });

      // Suspended: the very next call does not happen.
      const susp = await as(admin, 'POST', `/api/cds/registry/${id}/status`, { status: 'suspended', reason: 'Vendor reported a defect' });
      expect(susp.status, susp.text).toBe(200);
      const r3 = await as(doctor, 'POST', '/api/cds/hooks/patient-view', { patientId: an });
      expect(r3.status).toBe(200);
      expect(spec.calls()).toBe(1);
      expect((r3.body as HookResult).cards.some((c) => c.service.id === id)).toBe(false);
      // Withdrawn is final.
      expect((await as(admin, 'POST', `/api/cds/registry/${id}/status`, { status: 'withdrawn', reason: 'Contract ended' })).status).toBe(200);
      expect((await as(admin, 'POST', `/api/cds/registry/${id}/status`, { status: 'approved', reason: 'Contract renewed' })).status).toBe(400);
    } finally {
      await spec.close();
    }
  });

  it('drops a service slower than 1 s without failing the hook, and counts the error', async () => {
    const slow = specServer({ delayMs: 1600 });
    const base = await slow.start();
    try {
      const s = await registerApproved(base, 'spec-allergy-reminder', 'patient-view', ['Patient', 'AllergyIntolerance']);
      const r = await as(doctor, 'POST', '/api/cds/hooks/patient-view', { patientId: an });
      expect(r.status, r.text).toBe(200);
      const result = r.body as HookResult;
      expect(result.cards.some((c) => c.service.id === s.id)).toBe(false);
      expect(result.dropped).toEqual([{ service: s.name, reason: 'timeout (> 1000 ms)' }]);
      const view = (await as(admin, 'GET', `/api/cds/registry/${s.id}`)).body as ServiceView;
      expect(view.monitoring).toMatchObject({ calls: 1, errors: 1, cards: 0 });
      expect(view.monitoring.lastErrors[0].error).toBe('timeout (> 1000 ms)');
      await as(admin, 'POST', `/api/cds/registry/${s.id}/status`, { status: 'withdrawn', reason: 'Too slow for clinical use' });
    } finally {
      await slow.close();
    }
  });

  it('flags a drug the patient is allergic to (critical), needs a reason to override, sends the feedback; an accepted alternative is a draft the doctor confirms with both Provenances', async () => {
    const select = await registerApproved(bundledUrl, 'cauyte-rx-safety-select', 'order-select', [
      'AllergyIntolerance',
      'MedicationRequest',
      'MedicationStatement',
    ]);
    const items = [{ name: 'Amoxicilin 500 mg', atc: 'J01CA04' }];
    const r = await as(doctor, 'POST', '/api/cds/hooks/order-select', { patientId: an, items, selections: [0] });
    expect(r.status, r.text).toBe(200);
    const critical = (r.body as HookResult).cards.find((c) => c.indicator === 'critical')!;
    expect(critical.summary).toContain('Penicillin');
    expect(critical.service).toMatchObject({ id: select.id, version: '1.0' });
    expect(critical.overrideReasons.length).toBeGreaterThan(0);

    // Override: a reason is required (a JSON problem otherwise).
    const bare = await as(doctor, 'POST', `/api/cds/cards/${critical.id}/override`, { reason: '' });
    expect(bare.status).toBe(400);
    // Another clinician cannot act on this clinician's card.
    expect((await as(stranger, 'POST', `/api/cds/cards/${critical.id}/override`, { reason: 'Not my patient but still' })).status).toBe(404);
    const o = await as(doctor, 'POST', `/api/cds/cards/${critical.id}/override`, {
      reason: 'Đã dùng amoxicilin năm ngoái không sao',
      code: 'tolerated-before',
    });
    expect(o.status, o.text).toBe(200);
    expect(o.body.feedback).toBe('sent');
    const fb = bundled.feedback.find((f: FeedbackItem) => f.outcome === 'overridden')!;
    expect(fb).toMatchObject({
      service: 'cauyte-rx-safety-select',
      overrideReason: { reason: { code: 'tolerated-before' }, userComment: 'Đã dùng amoxicilin năm ngoái không sao' },
    });
    expect((await as(doctor, 'POST', `/api/cds/cards/${critical.id}/override`, { reason: 'Second time round' })).status).toBe(409);

    // Again, and this time the alternative is accepted: a draft, never the delete action.
    const again = ((await as(doctor, 'POST', '/api/cds/hooks/order-select', { patientId: an, items })).body as HookResult).cards.find(
      (c) => c.indicator === 'critical',
    )!;
    const acc = await as(doctor, 'POST', `/api/cds/cards/${again.id}/accept`, { suggestion: again.suggestions[0].uuid });
    expect(acc.status, acc.text).toBe(200);
    expect(acc.body.skipped).toEqual(['delete']);
    const draftId = (acc.body as Accepted).drafts[0].split('/')[1];
    const draft = await p.fixtures.read<MedicationRequest>('MedicationRequest', draftId);
    expect(draft).toMatchObject({ status: 'draft', medicationCodeableConcept: { text: 'Azithromycin' } });
    const conf = await as(doctor, 'POST', `/api/cds/drafts/MedicationRequest/${draftId}/confirm`);
    expect(conf.status, conf.text).toBe(200);
    expect((conf.body as Confirmed).provenance).toHaveLength(2);
    expect((await p.fixtures.read<MedicationRequest>('MedicationRequest', draftId)).status).toBe('active');
    const provs = await Promise.all((conf.body as Confirmed).provenance.map((ref) => p.fixtures.read<Provenance>('Provenance', ref.split('/')[1])));
    expect(provs[0].agent.map((a) => a.who?.reference)).toContain(select.device);
    expect(provs[1].agent.find((a) => a.type?.coding?.[0].code === 'verifier')?.who?.reference).toBe(`Practitioner/${demo.ids.practitioners[6]}`);
    expect(provs[1].agent.map((a) => a.who?.reference)).toContain(select.device);
    // A plain FHIR write cannot forge decision support's Provenance.
    const forged = await call(p, 'POST', '/fhir/R4/Provenance', { ...provs[0], id: undefined });
    expect(forged.status).toBe(422);

    // Monitoring figures: calls, cards, accepted, overridden with the reason.
    const view = (await as(admin, 'GET', `/api/cds/registry/${select.id}`)).body as ServiceView;
    expect(view.monitoring).toMatchObject({ calls: 2, errors: 0, accepted: 1, overridden: 1, acceptanceRate: 0.5 });
    expect(view.monitoring.overrideReasons[0].reason).toContain('Đã dùng amoxicilin');
  });

  it('sends only the approved data scopes, audits every call and shows it in the citizen’s access log', async () => {
    const narrow = await registerApproved(bundledUrl, 'cauyte-chart-review', 'patient-view', ['MedicationStatement']);
    const r = await as(doctor, 'POST', '/api/cds/hooks/patient-view', { patientId: an });
    const card = (r.body as HookResult).cards.find((c) => c.service.id === narrow.id)!;
    // No allergies left: the service says it saw none (its only data is its prefetch).
    expect(card.summary).not.toContain('Penicillin');
    const log = await as(citizen, 'GET', '/api/me/access-log');
    expect(log.status).toBe(200);
    const entries = (log.body as AccessLogEntry[]).filter((e) => e.action === 'cds.call');
    expect(entries.some((e) => e.reason === `Dịch vụ AI «${narrow.name}» đã đọc thuốc đang dùng của bạn — để gợi ý khi bác sĩ mở hồ sơ`)).toBe(true);
    expect(entries.some((e) => e.reason?.includes('đã đọc dị ứng'))).toBe(true);
    const rows = (await p.db.query<{ detail: any }>("SELECT detail FROM audit_log WHERE action = 'cds.call' AND detail->>'service' = $1", [narrow.id])).rows;
    expect(rows[0].detail).toMatchObject({ to: bundledUrl, hook: 'patient-view', sent: ['MedicationStatement'] });
    expect(rows[0].detail.withheld.map((w: { key: string }) => w.key).sort()).toEqual(['allergies', 'medications']);
  });

  it('refuses: another facility’s clinician, a citizen on clinical hooks, clinicians on the registry, anyone on another’s draft', async () => {
    const other = await as(stranger, 'POST', '/api/cds/hooks/patient-view', { patientId: an });
    expect(other.status).toBe(403);
    expect((await as(citizen, 'POST', '/api/cds/hooks/patient-view', { patientId: an })).status).toBe(403);
    expect((await as(citizen, 'POST', '/api/cds/hooks/order-sign', { patientId: an, items: [] })).status).toBe(403);
    for (const h of [doctor, citizen, stranger]) {
      expect((await as(h, 'GET', '/api/cds/registry')).status).toBe(403);
      expect((await as(h, 'POST', '/api/cds/registry/discover', { baseUrl: bundledUrl })).status).toBe(403);
      expect((await as(h, 'POST', '/api/cds/registry/x/status', { status: 'approved', reason: 'please approve' })).status).toBe(403);
      expect((await as(h, 'PUT', '/api/cds/registry/x/scopes', { allowedHooks: ['patient-view'], dataScopes: [] })).status).toBe(403);
    }
    expect((await as(admin, 'POST', '/api/cds/hooks/patient-view', { patientId: an })).status).toBe(403);
    // An app token of an integration system holds no decision-support action.
    const token = await p.tokenFor('integration');
    expect((await call(p, 'GET', '/api/cds/registry', undefined, { authorization: `Bearer ${token}` })).status).toBe(403);
    expect((await call(p, 'POST', '/api/cds/hooks/patient-view', { patientId: an }, { authorization: `Bearer ${token}`, ...json })).status).toBe(403);
    // Another clinician cannot confirm a draft of a patient they do not reach.
    const mr = await p.fixtures.create<MedicationRequest>({
      resourceType: 'MedicationRequest',
      status: 'draft',
      intent: 'proposal',
      meta: { tag: [{ system: 'https://fhir.cauyte.vn/CodeSystem/cds', code: 'ai-suggested' }] },
      subject: { reference: `Patient/${an}` },
      medicationCodeableConcept: { text: 'Azithromycin' },
    });
    expect((await as(stranger, 'POST', `/api/cds/drafts/MedicationRequest/${mr.id}/confirm`)).status).toBe(403);
    expect((await as(citizen, 'POST', `/api/cds/drafts/MedicationRequest/${mr.id}/confirm`)).status).toBe(403);
    expect((await as(doctor, 'POST', `/api/cds/cards/not-a-card/accept`, { suggestion: 'x' })).status).toBe(404);
  });
});
