/**
 * The FHIR REST API at /fhir/R4: HTTP in, a repository for the caller (store.as(req.ctx)) out
 * to application/fhir+json. One repository per request; nothing here touches storage directly.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Resource } from '@medplum/fhirtypes';
import { buildCapabilityStatement } from './capability.ts';
import { FhirError, allOk, badRequest, notFound } from './outcome.ts';
import type { FhirStore } from './store.ts';

export const FHIR_PREFIX = '/fhir/R4';
export const FHIR_JSON = 'application/fhir+json; charset=utf-8';

export interface FhirRoutesOptions {
  store: FhirStore;
  software: { name: string; version: string };
}

type Req = FastifyRequest<{ Params: Record<string, string> }>;

function queryOf(req: FastifyRequest): URLSearchParams {
  const url = req.raw.url ?? '';
  const i = url.indexOf('?');
  return new URLSearchParams(i >= 0 ? url.slice(i + 1) : '');
}

function send(reply: FastifyReply, status: number, body: unknown): FastifyReply {
  return reply.code(status).type(FHIR_JSON).send(body);
}

/** Headers and body for a single resource, honouring Prefer: return=minimal|representation|OperationOutcome. */
function sendResource(req: FastifyRequest, reply: FastifyReply, status: number, resource: Resource, location?: string): FastifyReply {
  const v = resource.meta?.versionId;
  if (v) reply.header('etag', `W/"${v}"`);
  if (resource.meta?.lastUpdated) reply.header('last-modified', new Date(resource.meta.lastUpdated).toUTCString());
  if (location) reply.header('location', `${location}/${resource.resourceType}/${resource.id}/_history/${v}`);
  const prefer = String(req.headers.prefer ?? '');
  if (/return=minimal/.test(prefer)) return reply.code(status).send();
  if (/return=OperationOutcome/.test(prefer)) return send(reply, status, allOk(`${resource.resourceType}/${resource.id} version ${v}`));
  return send(reply, status, resource);
}

export async function fhirRoutes(app: FastifyInstance, opts: FhirRoutesOptions): Promise<void> {
  const { store } = opts;
  const F = { config: { access: 'fhir' as const } };
  const repo = (req: FastifyRequest) => store.as(req.ctx);
  const base = store.fhirBase;
  let capability: unknown;

  app.get(`${FHIR_PREFIX}/metadata`, { config: { access: 'public' } }, async (_req, reply) => {
    capability ??= buildCapabilityStatement(store.registry, base, opts.software);
    return send(reply, 200, capability);
  });

  app.post(FHIR_PREFIX, F, async (req, reply) => {
    const prefer = String(req.headers.prefer ?? '');
    return send(reply, 200, await repo(req).bundle(req.body, { returnMinimal: /return=minimal/.test(prefer) }));
  });

  app.get(`${FHIR_PREFIX}/_history`, F, async (req, reply) => send(reply, 200, await repo(req).history({ query: queryOf(req) })));

  app.get(`${FHIR_PREFIX}/:type`, F, async (req: Req, reply) => send(reply, 200, await repo(req).searchBundle(req.params.type, queryOf(req))));

  app.post(`${FHIR_PREFIX}/:type/_search`, F, async (req: Req, reply) => {
    const query = queryOf(req);
    if (req.body !== undefined && req.body !== null) {
      if (typeof req.body !== 'string') throw badRequest('POST _search takes application/x-www-form-urlencoded parameters');
      for (const [k, v] of new URLSearchParams(req.body)) query.append(k, v);
    }
    return send(reply, 200, await repo(req).searchBundle(req.params.type, query));
  });

  app.post(`${FHIR_PREFIX}/:type`, F, async (req: Req, reply) => {
    const ifNoneExist = req.headers['if-none-exist'];
    const result = await repo(req).createAt(req.params.type, req.body, { ifNoneExist: typeof ifNoneExist === 'string' ? ifNoneExist : undefined });
    return sendResource(req, reply, result.created ? 201 : 200, result.resource, result.created ? base : undefined);
  });

  app.put(`${FHIR_PREFIX}/:type`, F, async (req: Req, reply) => {
    const query = queryOf(req);
    const result = await repo(req).conditionalUpdate(req.params.type, query, req.body);
    return sendResource(req, reply, result.created ? 201 : 200, result.resource, result.created ? base : undefined);
  });

  app.get(`${FHIR_PREFIX}/:type/_history`, F, async (req: Req, reply) =>
    send(reply, 200, await repo(req).history({ type: req.params.type, query: queryOf(req) })),
  );

  app.get(`${FHIR_PREFIX}/:type/:id`, F, async (req: Req, reply) => {
    const resource = await repo(req).read(req.params.type, req.params.id);
    return sendResource(req, reply, 200, resource);
  });

  app.put(`${FHIR_PREFIX}/:type/:id`, F, async (req: Req, reply) => {
    const ifMatch = req.headers['if-match'];
    const result = await repo(req).updateAt(req.params.type, req.params.id, req.body, { ifMatch: typeof ifMatch === 'string' ? ifMatch : undefined });
    return sendResource(req, reply, result.created ? 201 : 200, result.resource, result.created ? base : undefined);
  });

  app.delete(`${FHIR_PREFIX}/:type/:id`, F, async (req: Req, reply) => {
    await repo(req).delete(req.params.type, req.params.id);
    return reply.code(204).send();
  });

  app.get(`${FHIR_PREFIX}/:type/:id/:operation`, F, async (req: Req, reply) => {
    const { type, id, operation } = req.params;
    if (operation === '_history') return send(reply, 200, await repo(req).history({ type, id, query: queryOf(req) }));
    if (operation === '$everything' && type === 'Patient') return send(reply, 200, await repo(req).everything(id, queryOf(req)));
    throw notFound(`Unknown operation ${operation} on ${type}`);
  });

  app.get(`${FHIR_PREFIX}/:type/:id/_history/:vid`, F, async (req: Req, reply) => {
    const resource = await repo(req).vread(req.params.type, req.params.id, req.params.vid);
    return sendResource(req, reply, 200, resource);
  });
}

/** Maps any error on a FHIR route to an OperationOutcome with the right status. */
export function fhirErrorBody(err: unknown): { status: number; body: unknown } {
  if (err instanceof FhirError) return { status: err.status, body: err.outcome };
  const e = err as { statusCode?: number; code?: string; message?: string };
  if (e.statusCode && e.statusCode >= 400 && e.statusCode < 500) {
    const code = e.statusCode === 413 ? 'too-costly' : e.statusCode === 415 ? 'not-supported' : 'invalid';
    const text =
      e.code === 'FST_ERR_CTP_BODY_TOO_LARGE'
        ? 'The request body is larger than this server accepts'
        : e.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE'
          ? 'Unsupported Content-Type: send application/fhir+json'
          : (e.message ?? 'Bad request');
    return { status: e.statusCode, body: { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code, details: { text }, diagnostics: text }] } };
  }
  return {
    status: 500,
    body: {
      resourceType: 'OperationOutcome',
      issue: [{ severity: 'error', code: 'exception', details: { text: 'Internal server error' }, diagnostics: 'Internal server error' }],
    },
  };
}
