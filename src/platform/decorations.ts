/**
 * What every plugin may use from the core, as decorations of the Fastify instance. The database
 * handle is deliberately absent: domain code reaches the record through `app.store` (a
 * repository per request) and its own tables through that repository's `sql`.
 */
import type { Config } from '../config.ts';
import type { AuditLog } from '../audit/audit.ts';
import type { AccountService } from '../auth/accounts.ts';
import type { ServerSecret } from '../auth/secret.ts';
import type { SessionService } from '../auth/sessions.ts';
import type { TokenService } from '../auth/tokens.ts';
import type { EventBus } from '../events/bus.ts';
import type { FhirStore } from '../fhir/store.ts';
import type { Core } from './core.ts';

declare module 'fastify' {
  interface FastifyInstance {
    config: Config;
    store: FhirStore;
    bus: EventBus;
    secret: ServerSecret;
    audit: AuditLog;
    accounts: AccountService;
    sessions: SessionService;
    tokens: TokenService;
  }
}

/** The decorations, in one call (server.ts). */
export function decorateCore(app: import('fastify').FastifyInstance, core: Core): void {
  app.decorate('config', core.config);
  app.decorate('store', core.store);
  app.decorate('bus', core.bus);
  app.decorate('secret', core.secret);
  app.decorate('audit', core.audit);
  app.decorate('accounts', core.accounts);
  app.decorate('sessions', core.sessions);
  app.decorate('tokens', core.tokens);
}
