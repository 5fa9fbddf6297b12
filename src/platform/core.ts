/**
 * The platform's core, shared by every plugin: configuration, the server secret, the audit
 * trail, the record store, identity (accounts, sessions, tokens) and the event bus. Built once
 * per process (HTTP server or CLI) from the configuration and a database.
 *
 * Domain plugins see the core through Fastify decorations (platform/decorations.ts) — never
 * the database handle, which stays here and in the core modules that own their tables.
 */
import type { Config } from '../config.ts';
import type { Db } from '../db/db.ts';
import { migrate } from '../db/migrate.ts';
import { AuditLog } from '../audit/audit.ts';
import { AccountService } from '../auth/accounts.ts';
import { loadServerSecret, type ServerSecret } from '../auth/secret.ts';
import { SessionService } from '../auth/sessions.ts';
import { TokenService } from '../auth/tokens.ts';
import { EventBus } from '../events/bus.ts';
import { FhirStore } from '../fhir/store.ts';

export interface Core {
  config: Config;
  db: Db;
  secret: ServerSecret;
  audit: AuditLog;
  store: FhirStore;
  accounts: AccountService;
  sessions: SessionService;
  tokens: TokenService;
  bus: EventBus;
}

export async function openCore(config: Config, db: Db): Promise<Core> {
  await migrate(db);
  const secret = loadServerSecret({ env: config.CAUYTE_SECRET_KEY, dataDir: config.dataDir, embedded: !config.DATABASE_URL });
  const audit = new AuditLog(db, secret);
  const store = await FhirStore.open(db, { baseUrl: config.baseUrl, audit, breakGlassMinutes: config.CAUYTE_BREAK_GLASS_MINUTES });
  const accounts = new AccountService(db, secret);
  const sessions = new SessionService(db, { idleMinutes: config.CAUYTE_SESSION_IDLE_MINUTES, absoluteHours: config.CAUYTE_SESSION_MAX_HOURS });
  const tokens = new TokenService(db, secret, config.baseUrl, `${config.baseUrl}/fhir/R4`, config.CAUYTE_KEY_ROTATION_DAYS);
  await tokens.init();
  // A node that revokes an account's credentials refuses its tokens from the next request on.
  accounts.onRevoked((accountId) => tokens.forget(accountId));
  const bus = new EventBus(db);
  return { config, db, secret, audit, store, accounts, sessions, tokens, bus };
}
