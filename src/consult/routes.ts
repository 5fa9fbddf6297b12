/** HTTP for case conferences, sessions, attachments, eligibility, notifications and live events. */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { createEvents, type EventAttributes } from 'ics';
import { z } from 'zod';
import type { Appointment } from '@medplum/fhirtypes';
import { InputError, parseInput as parse } from '../http/input.ts';
import type { EventBus } from '../events/bus.ts';
import type { Db } from '../db/db.ts';
import type { EligibilityService } from './eligibility.ts';
import { ATTACHMENT_TYPES, type ConsultService } from './service.ts';

type P<T = { id: string }> = FastifyRequest<{ Params: T }>;

const id = z.string().regex(/^[A-Za-z0-9\-.]{1,64}$/, 'must be a resource id');
const text = (max: number) => z.string().trim().min(1).max(max);
const urgency = z.enum(['routine', 'urgent', 'emergency']);
const icd = z.object({ code: z.string().regex(/^[A-Z]\d{2}(\.[0-9A-Z]{1,4})?$/, 'must be an ICD-10 code such as C50.9'), display: z.string().max(300).optional() }).strict();

const requestBody = z.object({
  clientId: z.string().uuid(),
  patientId: id,
  receivingOrganizationId: id,
  specialty: z.object({ code: z.string().regex(/^[a-z-]{2,40}$/), display: text(100) }).strict(),
  urgency,
  reason: text(1000),
  icd10: icd,
  summary: z.object({ history: text(20_000), findings: text(20_000), vitals: z.string().max(5000).optional(), treatment: text(20_000), question: text(5000) }).strict(),
  attachmentIds: z.array(id).max(30).default([]),
  submit: z.boolean().default(true),
}).strict();

const attachmentBody = z.object({
  clientId: z.string().uuid(),
  patientId: id,
  contentType: z.enum(Object.keys(ATTACHMENT_TYPES) as [string, ...string[]]),
  title: text(200),
  data: z.string().min(4).regex(/^[A-Za-z0-9+/]+=*$/, 'must be base64'),
}).strict();

const triageBody = z.object({
  action: z.enum(['accept', 'request-info', 'decline', 'redirect']),
  specialistIds: z.array(id).max(10).optional(),
  reason: z.string().trim().max(2000).optional(),
  redirectToOrganizationId: id.optional(),
  version: z.string().regex(/^\d{1,9}$/).optional(),
}).strict();

const conclusionBody = z.object({
  assessment: text(20_000),
  diagnosis: icd,
  recommendations: text(20_000),
  transfer: z.boolean(),
  actionUrgency: urgency,
  cosignerIds: z.array(id).max(10).optional(),
}).strict();

const sessionBody = z.object({
  title: text(300),
  topic: z.string().trim().max(500).optional(),
  start: z.string().datetime({ offset: true }),
  end: z.string().datetime({ offset: true }),
  hostPractitionerId: id,
  caseIds: z.array(id).min(1).max(20),
  siteOrganizationIds: z.array(id).min(1).max(50),
  participantPractitionerIds: z.array(id).max(100).default([]),
}).strict();

export interface ConsultRoutesOptions {
  consults: ConsultService;
  eligibility: EligibilityService;
  bus: EventBus;
  db: Db;
}

export async function consultRoutes(app: FastifyInstance, opts: ConsultRoutesOptions): Promise<void> {
  const { consults, eligibility, bus, db } = opts;
  const view = { config: { access: { domain: 'consult.view' as const } } };
  const request = { config: { access: { domain: 'consult.request' as const } } };
  const triage = { config: { access: { domain: 'consult.triage' as const } } };
  const sign = { config: { access: { domain: 'consult.sign' as const } } };
  const schedule = { config: { access: { domain: 'consult.schedule' as const } } };

  app.post('/api/attachments', request, async (req, reply) => reply.code(201).send(await consults.addAttachment(req.ctx, parse(attachmentBody, req.body))));
  app.get('/api/attachments/:id', view, async (req: P, reply) => {
    const a = await consults.attachmentContent(req.ctx, req.params.id);
    return reply.type(a.contentType).header('content-disposition', `inline; filename="${encodeURIComponent(a.title ?? 'tep')}"`).header('cache-control', 'private, no-store').send(a.data);
  });

  app.post('/api/consults', request, async (req, reply) => {
    const r = await consults.createRequest(req.ctx, parse(requestBody, req.body));
    return reply.code(r.created ? 201 : 200).send(r);
  });
  app.get('/api/consults', view, async (req) => {
    const v = (req.query as { view?: string }).view ?? 'requested';
    if (v === 'queue') return consults.queue(req.ctx);
    if (v === 'requested' || v === 'assigned' || v === 'received') return consults.mine(req.ctx, v);
    throw new InputError('view must be requested, received, assigned or queue');
  });
  app.get('/api/consults/follow-ups', view, async (req) => consults.overdueFollowUps(req.ctx));
  app.get('/api/consults/:id', view, async (req: P) => consults.view(req.ctx, req.params.id));
  app.get('/api/consults/:id/teaching-copy', view, async (req: P) => consults.teachingCopy(req.ctx, req.params.id));
  app.post('/api/consults/:id/submit', request, async (req: P) => ({ state: await consults.submit(req.ctx, req.params.id) }));
  app.post('/api/consults/:id/withdraw', request, async (req: P) => ({ state: await consults.withdraw(req.ctx, req.params.id, parse(z.object({ reason: text(1000) }).strict(), req.body).reason) }));
  app.post('/api/consults/:id/triage', triage, async (req: P) => ({ state: await consults.triage(req.ctx, req.params.id, parse(triageBody, req.body)) }));
  app.put('/api/consults/:id/conclusion', sign, async (req: P) => consults.draftConclusion(req.ctx, req.params.id, parse(conclusionBody, req.body)));
  app.post('/api/consults/:id/conclusion/sign', sign, async (req: P) => consults.sign(req.ctx, req.params.id));
  app.post('/api/consults/:id/conclusion/amend', sign, async (req: P) => consults.amend(req.ctx, req.params.id, parse(conclusionBody, req.body)));
  app.get('/api/consults/:id/conclusion/verify', view, async (req: P) => consults.verifyConclusion(req.ctx, req.params.id));
  app.post('/api/consults/:id/acknowledge', request, async (req: P) =>
    ({ state: await consults.acknowledge(req.ctx, req.params.id, parse(z.object({ decision: z.enum(['accept', 'different']), reason: z.string().trim().max(2000).optional(), plan: z.string().trim().max(5000).optional(), followUpDays: z.number().int().min(1).max(365).default(14) }).strict(), req.body)) }));
  app.post('/api/consults/:id/follow-up', request, async (req: P) =>
    ({ state: await consults.followUp(req.ctx, req.params.id, parse(z.object({ outcome: z.enum(['improved', 'stable', 'transferred', 'died', 'unknown']), note: z.string().trim().max(2000).optional() }).strict(), req.body)) }));

  app.post('/api/sessions', schedule, async (req, reply) => reply.code(201).send(await consults.scheduleSession(req.ctx, parse(sessionBody, req.body))));
  app.get('/api/sessions/:id', view, async (req: P) => consults.session(req.ctx, req.params.id));
  app.get('/api/sessions/:id/ics', view, async (req: P, reply) => {
    const { appointment } = await consults.session(req.ctx, req.params.id);
    return reply.type('text/calendar; charset=utf-8').header('content-disposition', `attachment; filename="hoi-chan-${appointment.id}.ics"`).send(toIcs(appointment));
  });
  app.post('/api/sessions/:id/attendance', view, async (req: P) =>
    consults.attendance(req.ctx, req.params.id, parse(z.object({ organizationId: id, event: z.enum(['join', 'leave']) }).strict(), req.body)));

  app.get('/api/eligibility', { config: { access: 'authenticated' } }, async (req) => eligibility.check(parse(z.object({ icd10: z.string().min(1).max(20) }).strict(), req.query).icd10));
  app.get('/api/eligibility/list', { config: { access: 'authenticated' } }, async () => {
    const l = await eligibility.inForce();
    return { version: l.version, source: l.source, entries: l.entries.map(({ patterns: _p, ...e }) => e) };
  });
  app.post('/api/eligibility/list', { config: { access: { domain: 'eligibility.manage' } } }, async (req, reply) => {
    const b = parse(z.object({ version: z.string().min(1).max(60), source: text(1000), csv: z.string().min(10).max(2_000_000) }).strict(), req.body);
    try {
      const l = await eligibility.load(b.version, b.source, b.csv, req.ctx.actor.username ?? req.ctx.actor.accountId ?? '?');
      return reply.code(201).send({ version: l.version, entries: l.entries.length });
    } catch (err) {
      throw new InputError((err as Error).message);
    }
  });
}

/** An iCalendar file for a session (times in UTC; calendars show them in local time). */
export function toIcs(a: Appointment): string {
  const parts = (iso: string): [number, number, number, number, number] => {
    const d = new Date(iso);
    return [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes()];
  };
  const event: EventAttributes = {
    uid: `appointment-${a.id}@cauyte`,
    start: parts(a.start!),
    startInputType: 'utc',
    startOutputType: 'utc',
    end: parts(a.end!),
    endInputType: 'utc',
    endOutputType: 'utc',
    title: `Hội chẩn từ xa: ${a.description ?? ''}`,
    description: [a.comment, `${a.basedOn?.length ?? 0} ca bệnh`].filter(Boolean).join('\n'),
    location: 'Trực tuyến — Cầu Y Tế',
    status: 'CONFIRMED',
  };
  const { error, value } = createEvents([event]);
  if (error || !value) throw new Error(`Cannot make the calendar file: ${error?.message}`);
  return value;
}
