/**
 * Family links as a plugin: staff record (after seeing the proof) that a citizen manages a family
 * member's record; the citizen then reads the member's record, books for them and exercises their
 * data rights. The links feed the access rules (src/auth/access.ts). What the workflow owns: the
 * link's RelatedPerson (src/family/rules.ts).
 */
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { familyRoutes } from './routes.ts';
import { registerFamilyRules } from './rules.ts';
import { FamilyService } from './service.ts';

declare module 'fastify' {
  interface FastifyInstance {
    family: FamilyService;
  }
}

async function familyPlugin(app: FastifyInstance): Promise<void> {
  const family = new FamilyService(app.store);
  registerFamilyRules(app.store);
  app.decorate('family', family);
  await app.register(familyRoutes, { family });
}

export default fp(familyPlugin, { name: 'family', dependencies: ['fhir'] });
