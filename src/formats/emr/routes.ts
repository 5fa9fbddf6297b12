/**
 * HTTP for the EMR exchange export (TT 13/2025, CV 365 — see spec.ts for what is known):
 * `GET /api/emr/patients/:patientId?format=xml|json`. Whoever may read the patient's record may
 * export it (the clinician caring for them, the citizen themself); the export reads through the
 * caller's repository, so the same checks apply and it is audited against the caller.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { parseInput as parse } from '../../http/input.ts';
import { emrJson, emrXml, exportEmr } from './export.ts';

const params = z.object({ patientId: z.string().regex(/^[A-Za-z0-9\-.]{1,64}$/) });
const query = z.object({ format: z.enum(['xml', 'json']).default('xml') });

export async function emrRoutes(app: FastifyInstance): Promise<void> {
  app.get(
    '/api/emr/patients/:patientId',
    { config: { access: 'fhir' } },
    async (req: FastifyRequest<{ Params: { patientId: string }; Querystring: Record<string, string> }>, reply) => {
      const { patientId } = parse(params, req.params);
      const { format } = parse(query, req.query);
      const doc = await exportEmr(app.store.as(req.ctx), patientId);
      reply.header('x-emr-problems', String(doc.problems.length));
      if (format === 'json') return { ...emrJson(doc), problems: doc.problems };
      return reply.type('application/xml; charset=utf-8').header('content-disposition', `attachment; filename="HoSoBenhAn-${patientId}.xml"`).send(emrXml(doc));
    },
  );
}
