/**
 * A citizen's consents as a plugin: the routes, and the rule that the Consents deciding who may
 * read a record change only through them (the access rules read them: src/auth/access.ts).
 */
import fp from 'fastify-plugin';
import { registerConsentRules } from './rules.ts';
import { consentRoutes } from './routes.ts';

export default fp(
  async (app) => {
    registerConsentRules(app.store);
    await app.register(consentRoutes);
  },
  { name: 'consent', dependencies: ['auth'] },
);
