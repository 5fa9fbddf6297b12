/**
 * Decision-support routes. Clinicians (`cds.use`): fire a hook for a patient they reach, accept
 * or override a card, confirm an AI-suggested draft. The system administrator (`cds.manage`): the
 * registry — discover a CDS server's services, register one (proposed), approve / suspend /
 * withdraw it with a reason, set what it may receive.
 * The citizen (`cds.advice`): advice while booking a remote visit (appointment-book) for themselves
 * or a family member they manage — cards to read; nothing to accept or override.
 * Rules: input validated (contract.ts); citizens hold no other decision-support action (the
 * clinician decides); everything else is decided by the repositories (patient reach, the card's owner).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { parseInput as parse } from '../http/input.ts';
import { problem } from '../http/problem.ts';
import type { CdsClient } from './client.ts';
import {
  acceptRequest,
  bookingAdviceRequest,
  discoverRequest,
  draftParams,
  hookParams,
  hookRequest,
  overrideRequest,
  registerRequest,
  scopesRequest,
  serviceParams,
  statusRequest,
  type Accepted,
  type Confirmed,
  type Discovered,
  type HookResult,
  type Overridden,
  type ServiceView,
} from './contract.ts';
import type { Registry } from './registry.ts';
import type { Suggestions } from './suggestions.ts';

const use = { config: { access: { domain: 'cds.use' as const } } };
const advice = { config: { access: { domain: 'cds.advice' as const } } };
const manage = { config: { access: { domain: 'cds.manage' as const } } };
type P = FastifyRequest<{ Params: Record<string, string> }>;

export async function cdsRoutes(app: FastifyInstance, opts: { registry: Registry; client: CdsClient; suggestions: Suggestions }): Promise<void> {
  const { registry, client, suggestions } = opts;

  app.post('/api/cds/hooks/:hook', use, async (req: P): Promise<HookResult> => {
    const { hook } = parse(hookParams, req.params);
    const body = parse(hookRequest, req.body);
    return client.fire(req.ctx, hook, body);
  });
  app.post('/api/cds/booking-advice', advice, async (req): Promise<HookResult> => {
    const body = parse(bookingAdviceRequest, req.body);
    return client.fire(req.ctx, 'appointment-book', body, 'cds.advice');
  });
  app.post('/api/cds/cards/:id/accept', use, async (req: P): Promise<Accepted> =>
    suggestions.accept(req.ctx, parse(serviceParams, req.params).id, parse(acceptRequest, req.body).suggestion),
  );
  app.post('/api/cds/cards/:id/override', use, async (req: P): Promise<Overridden> => {
    const body = parse(overrideRequest, req.body);
    return suggestions.override(req.ctx, parse(serviceParams, req.params).id, body.reason, body.code);
  });
  app.post('/api/cds/drafts/:type/:id/confirm', use, async (req: P): Promise<Confirmed> => {
    const { type, id } = parse(draftParams, req.params);
    return suggestions.confirm(req.ctx, type, id);
  });

  app.get('/api/cds/registry', manage, async (req): Promise<ServiceView[]> => registry.list(req.ctx));
  app.get('/api/cds/registry/:id', manage, async (req: P): Promise<ServiceView> => registry.one(req.ctx, parse(serviceParams, req.params).id));
  app.post('/api/cds/registry/discover', manage, async (req, reply): Promise<Discovered | FastifyReply> => {
    const { baseUrl } = parse(discoverRequest, req.body);
    try {
      return await client.discover(baseUrl);
    } catch (err) {
      return reply.code(502).send(problem(502, 'Không đọc được danh sách dịch vụ (discovery failed)', (err as Error).message));
    }
  });
  app.post('/api/cds/registry', manage, async (req, reply): Promise<ServiceView | FastifyReply> => {
    const body = parse(registerRequest, req.body);
    let found;
    try {
      found = (await client.discover(body.baseUrl)).services.find((s) => s.id === body.serviceId);
    } catch (err) {
      return reply.code(502).send(problem(502, 'Không đọc được danh sách dịch vụ (discovery failed)', (err as Error).message));
    }
    if (!found) return reply.code(422).send(problem(422, `Máy chủ không có dịch vụ "${body.serviceId}" (not in its discovery)`));
    return reply.code(201).send(await registry.register(req.ctx, body, found.prefetch, found.hook));
  });
  app.post('/api/cds/registry/:id/status', manage, async (req: P): Promise<ServiceView> => {
    const body = parse(statusRequest, req.body);
    return registry.setStatus(req.ctx, parse(serviceParams, req.params).id, body.status, body.reason, body.evidence);
  });
  app.put('/api/cds/registry/:id/scopes', manage, async (req: P): Promise<ServiceView> => {
    const body = parse(scopesRequest, req.body);
    return registry.setScopes(req.ctx, parse(serviceParams, req.params).id, body.allowedHooks, body.dataScopes);
  });
}
