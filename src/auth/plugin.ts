/**
 * Identity and access as a plugin: the enforcement hooks every route passes (authenticate, then
 * the route's access rule against the policy table), sign-in and sessions, OAuth/SMART,
 * break-the-glass and account administration, and the daily staff-inactivity job
 * (src/auth/inactivity.ts). Registered before any domain plugin.
 */
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import type { Core } from '../platform/core.ts';
import { accountRoutes } from './account-routes.ts';
import { adminRoutes } from './admin-routes.ts';
import { breakGlassRoutes } from './break-glass.ts';
import { registerEnforcement } from './enforce.ts';
import { expireInactiveStaff } from './inactivity.ts';
import { runDaily } from '../platform/daily.ts';
import { oauthRoutes } from './oauth.ts';
import { registerSmartCors, smartRoutes } from './smart.ts';
import { authRoutes } from './routes.ts';

async function authPlugin(app: FastifyInstance, opts: { core: Core }): Promise<void> {
  const { core } = opts;
  const { config } = core;
  registerEnforcement(app, { tokens: core.tokens, sessions: core.sessions, accounts: core.accounts, audit: core.audit });
  await app.register(authRoutes, { accounts: core.accounts, sessions: core.sessions, audit: core.audit, secureCookies: config.CAUYTE_COOKIE_SECURE === '1' });
  await app.register(oauthRoutes, {
    db: core.db,
    tokens: core.tokens,
    accounts: core.accounts,
    audit: core.audit,
    baseUrl: config.baseUrl,
    tokenTtlSeconds: config.CAUYTE_TOKEN_TTL_SECONDS,
  });
  registerSmartCors(app);
  await app.register(smartRoutes, { db: core.db, audit: core.audit, access: core.store.access, baseUrl: config.baseUrl });
  await app.register(breakGlassRoutes, { db: core.db, access: core.store.access });
  await app.register(accountRoutes);
  await app.register(adminRoutes, { db: core.db });
  runDaily(app, 'staff-inactivity', async () => {
    const expired = await expireInactiveStaff(core, config.CAUYTE_STAFF_INACTIVE_DAYS);
    return { disabled: expired.length };
  });
}

export default fp(authPlugin, { name: 'auth', dependencies: ['http'] });
