/** Terminology helpers for forms: check a Vietnamese identifier before submitting a record; pick an ICD-10 code or a medicine. */
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { parseInput as parse } from '../http/input.ts';
import { searchDrugs } from './drugs.ts';
import { searchIcd10 } from './icd10.ts';
import { BHYT_SYSTEM, CCCD_SYSTEM, checkBhyt, checkCccd } from './identifiers.ts';

const identifierQuery = z.object({
  system: z.enum(['cccd', 'bhyt']),
  value: z.string().min(1).max(64),
  birthDate: z
    .string()
    .regex(/^\d{4}(-\d{2}(-\d{2})?)?$/)
    .optional(),
  gender: z.enum(['male', 'female', 'other', 'unknown']).optional(),
});

export async function terminologyRoutes(app: FastifyInstance): Promise<void> {
  app.get('/api/terminology/identifier-check', { config: { access: 'authenticated' } }, async (req, reply) => {
    const parsed = identifierQuery.safeParse(req.query);
    if (!parsed.success) {
      return reply
        .code(400)
        .type('application/problem+json')
        .send({
          type: 'about:blank',
          title: 'Invalid query',
          status: 400,
          detail: parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; '),
        });
    }
    const q = parsed.data;
    const problem = q.system === 'cccd' ? checkCccd(q.value, q) : checkBhyt(q.value);
    return { system: q.system === 'cccd' ? CCCD_SYSTEM : BHYT_SYSTEM, valid: !problem, ...(problem ? { problem } : {}) };
  });

  // The drug dictionary for the e-prescription (data/drugs): by Vietnamese name, INN or ATC code.
  app.get('/api/terminology/drugs', { config: { access: 'authenticated' } }, async (req) =>
    searchDrugs(parse(z.object({ q: z.string().min(1).max(100) }).strict(), req.query).q),
  );

  app.get('/api/terminology/icd10', { config: { access: 'authenticated' } }, async (req) =>
    searchIcd10(parse(z.object({ q: z.string().min(1).max(100) }).strict(), req.query).q),
  );
}
