/** A citizen's consents as a plugin (the access rules read them: src/auth/access.ts). */
import fp from 'fastify-plugin';
import { consentRoutes } from './routes.ts';

export default fp(async (app) => app.register(consentRoutes), { name: 'consent', dependencies: ['auth'] });
