/**
 * HTTP for case conferences, meetings, attachments and the remote-examination eligibility list.
 * Each route declares the domain action it needs (checked before the handler and again when the
 * use case builds its repository) and parses its body with the schemas of contract.ts.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { parseInput as parse } from '../http/input.ts';
import {
  acknowledgeBody,
  attachmentBody,
  attendanceBody,
  caseListQuery,
  conclusionBody,
  eligibilityListBody,
  eligibilityQuery,
  followUpBody,
  meetingBody,
  requestBody,
  resourceId,
  triageBody,
  withdrawBody,
  type EligibilityListView,
  type SignResult,
  type StateResult,
} from './contract.ts';
import type { EligibilityService } from './eligibility.ts';
import { toIcs } from './meetings.ts';
import { meetingListQuery } from './meeting-contract.ts';
import type { ConsultService } from './service.ts';

type P = FastifyRequest<{ Params: { id: string } }>;

export interface ConsultRoutesOptions {
  consults: ConsultService;
  eligibility: EligibilityService;
}

export async function consultRoutes(app: FastifyInstance, opts: ConsultRoutesOptions): Promise<void> {
  const { consults, eligibility } = opts;
  const view = { config: { access: { domain: 'consult.view' as const } } };
  const request = { config: { access: { domain: 'consult.request' as const } } };
  const triage = { config: { access: { domain: 'consult.triage' as const } } };
  const sign = { config: { access: { domain: 'consult.sign' as const } } };
  const schedule = { config: { access: { domain: 'consult.schedule' as const } } };
  const idOf = (req: P) => parse(resourceId, req.params.id);
  const state = async (s: Promise<StateResult['state']>): Promise<StateResult> => ({ state: await s });

  app.post('/api/attachments', request, async (req, reply) => reply.code(201).send(await consults.addAttachment(req.ctx, parse(attachmentBody, req.body))));
  app.get('/api/attachments/:id', view, async (req: P, reply) => {
    const a = await consults.attachmentContent(req.ctx, idOf(req));
    return reply
      .type(a.contentType)
      .header('content-disposition', `inline; filename="${encodeURIComponent(a.title ?? 'tep')}"`)
      .header('cache-control', 'private, no-store')
      .send(a.data);
  });

  app.post('/api/consults', request, async (req, reply) => {
    const r = await consults.createRequest(req.ctx, parse(requestBody, req.body));
    return reply.code(r.created ? 201 : 200).send(r);
  });
  app.get('/api/consults', view, async (req) => {
    const v = parse(caseListQuery, req.query).view;
    return v === 'queue' ? consults.queue(req.ctx) : consults.mine(req.ctx, v);
  });
  app.get('/api/consults/follow-ups', view, async (req) => consults.overdueFollowUps(req.ctx));
  app.get('/api/consults/:id', view, async (req: P) => consults.view(req.ctx, idOf(req)));
  app.get('/api/consults/:id/teaching-copy', view, async (req: P) => consults.teachingCopy(req.ctx, idOf(req)));
  app.post('/api/consults/:id/submit', request, async (req: P) => state(consults.submit(req.ctx, idOf(req))));
  app.post('/api/consults/:id/withdraw', request, async (req: P) => state(consults.withdraw(req.ctx, idOf(req), parse(withdrawBody, req.body).reason)));
  app.post('/api/consults/:id/triage', triage, async (req: P) => state(consults.triage(req.ctx, idOf(req), parse(triageBody, req.body))));
  app.put('/api/consults/:id/conclusion', sign, async (req: P) => consults.draftConclusion(req.ctx, idOf(req), parse(conclusionBody, req.body)));
  app.post('/api/consults/:id/conclusion/sign', sign, async (req: P): Promise<SignResult> => consults.sign(req.ctx, idOf(req)));
  app.post('/api/consults/:id/conclusion/amend', sign, async (req: P) => consults.amend(req.ctx, idOf(req), parse(conclusionBody, req.body)));
  app.get('/api/consults/:id/conclusion/verify', view, async (req: P) => consults.verifyConclusion(req.ctx, idOf(req)));
  app.post('/api/consults/:id/acknowledge', request, async (req: P) => state(consults.acknowledge(req.ctx, idOf(req), parse(acknowledgeBody, req.body))));
  app.post('/api/consults/:id/follow-up', request, async (req: P) => state(consults.followUp(req.ctx, idOf(req), parse(followUpBody, req.body))));

  // Meetings (phiên hội chẩn).
  app.post('/api/meetings', schedule, async (req, reply) => reply.code(201).send(await consults.scheduleMeeting(req.ctx, parse(meetingBody, req.body))));
  app.get('/api/meetings', view, async (req) => consults.meetings(req.ctx, parse(meetingListQuery, req.query)));
  app.get('/api/meetings/:id', view, async (req: P) => consults.meeting(req.ctx, idOf(req)));
  app.get('/api/meetings/:id/ics', view, async (req: P, reply) => {
    const { appointment } = await consults.meeting(req.ctx, idOf(req));
    return reply
      .type('text/calendar; charset=utf-8')
      .header('content-disposition', `attachment; filename="hoi-chan-${appointment.id}.ics"`)
      .send(toIcs(appointment, app.config.baseUrl));
  });
  app.post('/api/meetings/:id/attendance', view, async (req: P) => consults.attendance(req.ctx, idOf(req), parse(attendanceBody, req.body)));

  // Remote-examination eligibility (Circular 30/2023).
  app.get('/api/eligibility', { config: { access: 'authenticated' } }, async (req) => eligibility.check(parse(eligibilityQuery, req.query).icd10));
  app.get('/api/eligibility/list', { config: { access: 'authenticated' } }, async (): Promise<EligibilityListView> => {
    const l = await eligibility.inForce();
    return { version: l.version, source: l.source, entries: l.entries.map(({ patterns: _p, ...e }) => e) };
  });
  app.post('/api/eligibility/list', { config: { access: { domain: 'eligibility.manage' } } }, async (req, reply) => {
    const b = parse(eligibilityListBody, req.body);
    const l = await eligibility.load(req.ctx, b.version, b.source, b.csv);
    return reply.code(201).send({ version: l.version, entries: l.entries.length });
  });
}
