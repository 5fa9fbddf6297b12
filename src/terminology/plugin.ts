/** Terminology as a plugin: identifier checks and the ICD-10 picker. */
import fp from 'fastify-plugin';
import { terminologyRoutes } from './routes.ts';

export default fp(async (app) => app.register(terminologyRoutes), { name: 'terminology', dependencies: ['auth'] });
