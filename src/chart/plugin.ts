/**
 * The clinician's chart as a plugin: `GET /api/chart/:patientId`, one screen of what a clinician
 * must see about a patient (chart.ts).
 * Rules: the route is `fhir` access (any signed-in actor); the caller's own repository decides
 * what each part shows, so another facility's clinician is refused (403, with break-the-glass
 * offered when their role may use it) and every part read is audited.
 */
import fp from 'fastify-plugin';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { parseInput as parse } from '../http/input.ts';
import { ChartService } from './chart.ts';
import { chartParams, type Chart } from './contract.ts';

declare module 'fastify' {
  interface FastifyInstance {
    chart: ChartService;
  }
}

async function chartPlugin(app: FastifyInstance): Promise<void> {
  const chart = new ChartService(app.store);
  app.decorate('chart', chart);
  app.get('/api/chart/:patientId', { config: { access: 'fhir' } }, async (req: FastifyRequest<{ Params: { patientId: string } }>): Promise<Chart> =>
    chart.chart(req.ctx, parse(chartParams, req.params).patientId),
  );
}

export default fp(chartPlugin, { name: 'chart', dependencies: ['fhir'] });
