/**
 * HTTP for the national programme: the facility register and its CSV import, hub-and-spoke
 * support, telemedicine-unit declarations and their review, support agreements, bridge-point
 * readiness, the indicators (JSON, CSV, XLSX, monthly PDF) and `$evaluate-measure`. Each route
 * declares the action it needs; the services check scope (own facility, own province) again.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { parseInput as parse } from '../http/input.ts';
import { z } from 'zod';
import { notFound } from '../fhir/outcome.ts';
import {
  agreementBody,
  declarationBody,
  facilityBody,
  facilityListQuery,
  hubBody,
  indicatorQuery,
  readinessBody,
  resourceId,
  reviewBody,
  settingsBody,
  type IndicatorReport,
} from './contract.ts';
import type { ProgrammeServices } from './plugin.ts';
import { toCsv, toPdf, toXlsx } from './exports.ts';
import { measureReport } from './measures.ts';
import { allProvinces } from './indicators.ts';
import type { IceServer } from '../video/protocol.ts';

type P = FastifyRequest<{ Params: { id: string } }>;
const importBody = z.object({ csv: z.string().min(1).max(20_000_000) }).strict();
const measureQuery = z
  .object({
    periodStart: z
      .string()
      .regex(/^\d{4}-\d{2}(-\d{2})?$/)
      .optional(),
    periodEnd: z
      .string()
      .regex(/^\d{4}-\d{2}(-\d{2})?$/)
      .optional(),
    subject: z.string().max(80).optional(),
  })
  .strict();

export async function programmeRoutes(app: FastifyInstance, opts: { programme: ProgrammeServices }): Promise<void> {
  const { network, declarations, agreements, readiness, indicators } = opts.programme;
  const view = { config: { access: { domain: 'programme.view' as const } } };
  const manage = { config: { access: { domain: 'programme.facilities' as const } } };
  const declare = { config: { access: { domain: 'programme.declare' as const } } };
  const review = { config: { access: { domain: 'programme.review' as const } } };
  const ready = { config: { access: { domain: 'programme.readiness' as const } } };
  const reports = { config: { access: { domain: 'reports.read' as const } } };
  const idOf = (req: P) => parse(resourceId, req.params.id);

  app.get('/api/programme/provinces', view, async () => allProvinces());
  app.get('/api/programme/facilities', view, async (req) => network.list(req.ctx, parse(facilityListQuery, req.query)));
  app.get('/api/programme/facilities/:id', view, async (req: P) => network.get(req.ctx, idOf(req)));
  app.post('/api/programme/facilities', manage, async (req, reply) => reply.code(201).send(await network.create(req.ctx, parse(facilityBody, req.body))));
  app.put('/api/programme/facilities/:id', manage, async (req: P) => network.update(req.ctx, idOf(req), parse(facilityBody, req.body)));
  app.post('/api/programme/facilities/import', { config: { ...manage.config }, bodyLimit: 25_000_000 }, async (req) =>
    network.import(req.ctx, parse(importBody, req.body).csv),
  );

  app.put('/api/programme/authorities', manage, async (req) => {
    const b = parse(z.object({ organizationId: resourceId, provinceCode: z.number().int() }).strict(), req.body);
    return network.setAuthority(req.ctx, b.organizationId, b.provinceCode);
  });
  app.get('/api/programme/hubs', view, async (req) => network.hubs(req.ctx, parse(z.object({ facility: resourceId.optional() }).strict(), req.query).facility));
  app.put('/api/programme/hubs', manage, async (req) => {
    const b = parse(hubBody, req.body);
    return network.setHub(req.ctx, b.hubId, b.spokeId, b.specialties);
  });

  app.get('/api/programme/declarations', review, async (req) => declarations.queue(req.ctx));
  // Read by the facility's own administrator (programme.declare) or the reviewing department (programme.review): the service decides.
  app.get('/api/programme/declarations/:id', view, async (req: P) => declarations.view(req.ctx, idOf(req)));
  app.post('/api/programme/declarations/:id', declare, async (req: P) => declarations.submit(req.ctx, idOf(req), parse(declarationBody, req.body)));
  app.post('/api/programme/declarations/:id/review', review, async (req: P) => declarations.review(req.ctx, idOf(req), parse(reviewBody, req.body)));

  app.get('/api/programme/agreements', view, async (req) => agreements.list(req.ctx, parse(z.object({ facility: resourceId }).strict(), req.query).facility));
  app.post('/api/programme/agreements', { config: { ...manage.config }, bodyLimit: 20_000_000 }, async (req, reply) =>
    reply.code(201).send(await agreements.create(req.ctx, parse(agreementBody, req.body))),
  );
  app.post('/api/programme/agreements/:id/terminate', manage, async (req: P) => agreements.terminate(req.ctx, idOf(req)));
  app.get('/api/programme/agreements/:id/document', view, async (req: P, reply) => {
    const d = await agreements.document(req.ctx, idOf(req));
    return reply
      .type(d.contentType)
      .header('content-disposition', `inline; filename="${encodeURIComponent(d.title)}"`)
      .header('cache-control', 'private, no-store')
      .send(d.data);
  });
  app.get('/api/programme/settings', view, async () => agreements.settings());
  app.put('/api/programme/settings', manage, async (req) => agreements.setSettings(req.ctx, parse(settingsBody, req.body)));

  app.post('/api/programme/readiness', ready, async (req) => readiness.record(req.ctx, parse(readinessBody, req.body)));
  // For the bridge-point check run from the site's room equipment: the ICE servers a call would
  // use (STUN, and TURN with short-lived credentials) to tell whether only a relay gets through, and
  // a probe that takes ~256 KB to time the upload. Nothing is stored.
  app.get('/api/programme/ice-servers', ready, async (req): Promise<{ iceServers: IceServer[] }> => ({
    iceServers: app.hasDecorator('rooms') ? app.rooms.iceServers(req.ctx.actor.accountId ?? req.ctx.actor.username ?? 'site') : [],
  }));
  app.post('/api/programme/readiness-probe', { config: { ...ready.config }, bodyLimit: 600_000 }, async (req) => ({
    bytes: parse(z.object({ pad: z.string().max(550_000) }).strict(), req.body).pad.length,
  }));
  app.get('/api/programme/readiness/:id', view, async (req: P) => readiness.view(req.ctx, idOf(req)));

  const report = (req: FastifyRequest): Promise<IndicatorReport> => indicators.report(req.ctx, parse(indicatorQuery, req.query));
  const download = (reply: FastifyReply, type: string, name: string, body: string | Buffer) =>
    reply.type(type).header('content-disposition', `attachment; filename="${name}"`).header('cache-control', 'private, no-store').send(body);
  app.get('/api/programme/indicators', reports, async (req) => report(req));
  app.get('/api/programme/indicators.csv', reports, async (req, reply) => {
    const r = await report(req);
    return download(reply, 'text/csv; charset=utf-8', `chi-so-${r.period.to}.csv`, toCsv(r));
  });
  app.get('/api/programme/indicators.xlsx', reports, async (req, reply) => {
    const r = await report(req);
    return download(reply, 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', `chi-so-${r.period.to}.xlsx`, await toXlsx(r));
  });
  app.get('/api/programme/report.pdf', reports, async (req, reply) => {
    const r = await report(req);
    return download(reply, 'application/pdf', `bao-cao-${r.period.to}.pdf`, await toPdf(r));
  });

  // FHIR: the indicator as a MeasureReport (period as months; subject = a province code, or an Organization of the scope).
  app.get('/fhir/R4/Measure/:id/$evaluate-measure', reports, async (req: P, reply) => {
    const q = parse(measureQuery, req.query);
    const subject = q.subject?.startsWith('Organization/') ? { facility: q.subject.slice(13) } : q.subject ? { province: Number(q.subject) } : {};
    const r = await indicators.report(
      req.ctx,
      parse(indicatorQuery, {
        from: q.periodStart?.slice(0, 7),
        to: q.periodEnd?.slice(0, 7),
        asOf: q.periodEnd?.length === 10 ? q.periodEnd : undefined,
        ...subject,
      }),
    );
    const mr = measureReport(req.params.id, r);
    if (!mr) throw notFound(`Không có chỉ số ${req.params.id} (unknown Measure)`);
    return reply.type('application/fhir+json').send(mr);
  });
}
