/**
 * HTTP for the national formats: a facility's insurance claims (check a visit — or its part as the
 * receiving hub of a concluded case conference — download its signed XML, queue it for the BHXH
 * gateway, list the queue).
 *
 * Rules: inputs parsed with the contract's schemas; each route names its access rule; the
 * services check the facility and audit. A visit that cannot be signed answers 422 with every
 * problem (table, row, column), as application/problem+json.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { notFound } from '../fhir/outcome.ts';
import { parseInput as parse } from '../http/input.ts';
import { problem } from '../http/problem.ts';
import { ClaimProblems, type ClaimService } from './claims.ts';
import type { EPrescriptionQueue, EPrescriptionStatus } from './eprescription/queue.ts';
import { claimListQuery, rxStatusCode, visitId, xmlQuery, type ClaimListItem, type ClaimView, type SubmissionView } from './contract.ts';

type P = FastifyRequest<{ Params: { id: string }; Querystring: Record<string, string | undefined> }>;

export interface FormatsRoutesOptions {
  claims: ClaimService;
  eprescriptions: EPrescriptionQueue;
}

function unsignable(reply: FastifyReply, e: unknown) {
  if (!(e instanceof ClaimProblems)) throw e;
  return reply
    .code(422)
    .type('application/problem+json')
    .send({ ...problem(422, 'Hồ sơ chưa đủ dữ liệu (claim incomplete)', e.message), problems: e.claim.problems });
}

export async function formatsRoutes(app: FastifyInstance, opts: FormatsRoutesOptions): Promise<void> {
  const { claims, eprescriptions } = opts;
  const rule = { config: { access: { domain: 'claims.submit' as const } } };

  app.get('/api/claims', rule, async (req: P): Promise<ClaimListItem[]> => claims.list(req.ctx, parse(claimListQuery, req.query).status));
  app.get('/api/claims/visits/:id', rule, async (req: P): Promise<ClaimView> => claims.view(req.ctx, parse(visitId, req.params.id)));
  app.get('/api/claims/visits/:id/xml', rule, async (req: P, reply) => {
    const { doc } = parse(xmlQuery, req.query);
    try {
      const xml = await claims.xml(req.ctx, parse(visitId, req.params.id), doc);
      return reply
        .type('application/xml; charset=utf-8')
        .header('content-disposition', `attachment; filename="${doc === 'envelope' ? 'giamdinhhs' : 'checkin'}-${req.params.id}.xml"`)
        .header('cache-control', 'private, no-store')
        .send(xml);
    } catch (e) {
      return unsignable(reply, e);
    }
  });
  app.post('/api/claims/visits/:id/submit', rule, async (req: P, reply) => {
    try {
      const s: SubmissionView = await claims.submit(req.ctx, parse(visitId, req.params.id));
      return reply.code(202).send(s);
    } catch (e) {
      return unsignable(reply, e);
    }
  });

  // The receiving (hub) facility's part of a concluded case conference (:id = the case id): the same check, signed XML and queue.
  app.get('/api/claims/consults/:id', rule, async (req: P): Promise<ClaimView> => claims.view(req.ctx, parse(visitId, req.params.id), 'consult'));
  app.get('/api/claims/consults/:id/xml', rule, async (req: P, reply) => {
    const { doc } = parse(xmlQuery, req.query);
    try {
      const xml = await claims.xml(req.ctx, parse(visitId, req.params.id), doc, 'consult');
      return reply
        .type('application/xml; charset=utf-8')
        .header('content-disposition', `attachment; filename="${doc === 'envelope' ? 'giamdinhhs' : 'checkin'}-hoichan-${req.params.id}.xml"`)
        .header('cache-control', 'private, no-store')
        .send(xml);
    } catch (e) {
      return unsignable(reply, e);
    }
  });
  app.post('/api/claims/consults/:id/submit', rule, async (req: P, reply) => {
    try {
      return reply.code(202).send(await claims.submit(req.ctx, parse(visitId, req.params.id), 'consult'));
    } catch (e) {
      return unsignable(reply, e);
    }
  });

  // Where an e-prescription is with the national system: its facility's billing staff, for their own facility's codes.
  app.get('/api/eprescriptions/:id/status', rule, async (req: P): Promise<EPrescriptionStatus> => {
    const code = parse(rxStatusCode, req.params.id);
    await claims.assertOwnFacilityCode(req.ctx, code.slice(0, 5));
    const s = await eprescriptions.status(code);
    if (!s) throw notFound(`Không có đơn thuốc ${code} trong hàng gửi (not queued)`);
    return s;
  });
}
