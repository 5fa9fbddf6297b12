/**
 * HTTP for early warning. Each route declares the action it needs; the service decides the
 * province from the account (an officer sees only their province; anyone else gets aggregates
 * with small counts suppressed). Inputs are validated (zod → 400 problem).
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { parseInput as parse } from '../http/input.ts';
import { aggregateQuery, authorityBody, decisionBody, populationBody, seriesQuery, signalId, signalQuery } from './contract.ts';
import { diseaseListSchema } from './diseases.ts';
import type { SurveillanceService } from './service.ts';

type P = FastifyRequest<{ Params: { id: string } }>;

export async function surveillanceRoutes(app: FastifyInstance, opts: { service: SurveillanceService }): Promise<void> {
  const s = opts.service;
  const view = { config: { access: { domain: 'surveillance.view' as const } } };
  const decide = { config: { access: { domain: 'surveillance.decide' as const } } };
  const aggregates = { config: { access: { domain: 'surveillance.aggregates' as const } } };
  const admin = { config: { access: { domain: 'surveillance.admin' as const } } };

  app.get('/api/surveillance/signals', view, async (req) => s.signals(req.ctx, parse(signalQuery, req.query)));
  app.get('/api/surveillance/series', view, async (req) => s.series(req.ctx, parse(seriesQuery, req.query)));
  app.post('/api/surveillance/signals/:id/decision', decide, async (req: P) => ({
    status: await s.decide(req.ctx, parse(signalId, req.params.id), parse(decisionBody, req.body)),
  }));
  app.get('/api/surveillance/aggregates', aggregates, async (req) => s.aggregates(req.ctx, parse(aggregateQuery, req.query)));
  app.get('/api/surveillance/disease-lists', admin, async (req) => s.listInfo(req.ctx));
  app.post('/api/surveillance/disease-lists', { config: admin.config, bodyLimit: 2_000_000 }, async (req, reply) =>
    reply.code(201).send(await s.loadList(req.ctx, parse(diseaseListSchema, req.body))),
  );
  app.put('/api/surveillance/population', admin, async (req) => s.setPopulation(req.ctx, parse(populationBody, req.body).rows));
  app.put('/api/surveillance/authorities', admin, async (req) => {
    const b = parse(authorityBody, req.body);
    return s.setAuthority(req.ctx, b.organizationId, b.provinceCode);
  });
}
