/**
 * HTTP for FHIR Bulk Data export: kick-off at system (`GET /fhir/R4/$export`), Patient
 * (`/fhir/R4/Patient/$export`) and Group (`/fhir/R4/Group/:id/$export`) level with
 * `Prefer: respond-async` → 202 + Content-Location; `GET /fhir/R4/$export-status/:id` → 202 with
 * X-Progress, then 200 with the manifest; `DELETE` cancels; `GET /fhir/R4/$export-file/:id/:n` →
 * one NDJSON file; `POST /fhir/R4/$import` loads NDJSON (import.ts). Errors are OperationOutcomes.
 *
 * Rules: access rule `fhir` (a signed-in caller), then the service insists on a backend-services
 * token with system/ scopes; status and files only for the account that started the job.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { badRequest } from '../../fhir/outcome.ts';
import { parseInput as parse } from '../../http/input.ts';
import type { FhirStore } from '../../fhir/store.ts';
import { BulkExports, type ExportLevel, type ExportParams } from './export.ts';
import { assertImporter, importNdjson } from './import.ts';

type Req = FastifyRequest<{ Params: { id: string; n: string }; Querystring: Record<string, string | undefined> }>;

const params = z
  .object({
    _type: z.string().max(4000).optional(),
    _since: z.string().max(40).optional(),
    _typeFilter: z.string().max(4000).optional(),
    _outputFormat: z.string().max(100).optional(),
  })
  .strict();
const jobId = z.string().uuid();

export async function bulkRoutes(app: FastifyInstance, opts: { bulk: BulkExports; fhirBase: string; store: FhirStore }): Promise<void> {
  const { bulk, fhirBase, store } = opts;
  const F = { config: { access: 'fhir' as const } };
  const kickOff = (level: (req: Req) => ExportLevel) => async (req: Req, reply: import('fastify').FastifyReply) => {
    BulkExports.assertBackend(req.ctx);
    if (!/respond-async/.test(String(req.headers.prefer ?? ''))) throw badRequest('Bulk export is asynchronous: send Prefer: respond-async');
    const p: ExportParams = parse(params, req.query);
    const id = await bulk.kickOff(req.ctx, level(req), p, `${fhirBase}${req.url.replace(/^\/fhir\/R4/, '')}`);
    return reply.code(202).header('content-location', `${fhirBase}/$export-status/${id}`).send();
  };
  app.get(
    '/fhir/R4/$export',
    F,
    kickOff(() => ({ kind: 'system' })),
  );
  app.get(
    '/fhir/R4/Patient/$export',
    F,
    kickOff(() => ({ kind: 'patient' })),
  );
  app.get(
    '/fhir/R4/Group/:id/$export',
    F,
    kickOff((req) => ({ kind: 'group', groupId: parse(z.string().regex(/^[A-Za-z0-9\-.]{1,64}$/), req.params.id) })),
  );

  app.get('/fhir/R4/$export-status/:id', F, async (req: Req, reply) => {
    const s = await bulk.status(req.ctx, parse(jobId, req.params.id));
    if ('running' in s) return reply.code(202).header('x-progress', s.running).header('retry-after', '1').send();
    if ('failed' in s)
      return reply
        .code(500)
        .type('application/fhir+json')
        .send({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'exception', diagnostics: s.failed }] });
    return reply.header('cache-control', 'no-store').send(s.done);
  });
  app.delete('/fhir/R4/$export-status/:id', F, async (req: Req, reply) => {
    await bulk.cancel(req.ctx, parse(jobId, req.params.id));
    return reply.code(202).send();
  });
  app.get('/fhir/R4/$export-file/:id/:n', F, async (req: Req, reply) => {
    const body = await bulk.file(req.ctx, parse(jobId, req.params.id), parse(z.coerce.number().int().min(1).max(100_000), req.params.n));
    return reply.type('application/fhir+ndjson').header('cache-control', 'no-store').send(body);
  });

  // $import: NDJSON in the body (this plugin's scope only parses that content type).
  app.addContentTypeParser(['application/fhir+ndjson', 'application/ndjson'], { parseAs: 'string' }, (_req, body, done) => done(null, body));
  app.post('/fhir/R4/$import', F, async (req, reply) => {
    assertImporter(req.ctx);
    if (typeof req.body !== 'string') throw badRequest('$import takes NDJSON (Content-Type: application/fhir+ndjson)');
    const counts = await importNdjson(store, req.ctx, req.body);
    return reply.type('application/fhir+json').send({
      resourceType: 'Parameters',
      parameter: Object.entries(counts).map(([type, n]) => ({
        name: 'imported',
        part: [
          { name: 'type', valueCode: type },
          { name: 'count', valueInteger: n },
        ],
      })),
    });
  });
}
