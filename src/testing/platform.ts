/**
 * A whole platform (Fastify app and every plugin) on a fresh test database. Tests act as real
 * actors (tokens, signed-in sessions) or as the system (`fixtures`, audited like any system work).
 */
import { createServer, type AddressInfo } from 'node:net';
import type { Resource } from '@medplum/fhirtypes';
import { loadConfig } from '../config.ts';
import { buildPlatform, type Domain, type Platform } from '../server.ts';
import { MemorySender } from '../events/outbox.ts';
import type { Role } from '../auth/policy.ts';
import type { TokenClaims } from '../auth/tokens.ts';
import type { Repository } from '../fhir/repository.ts';
import { DEMO_PASSWORD } from '../seed/accounts.ts';
import { createTestDb, type DbKind, type TestDb } from './databases.ts';
import { Secret } from 'otpauth';
import { freshTotpCode } from './totp.ts';

export interface TestPlatform extends Platform {
  testDb: TestDb;
  /** Email and SMS the platform sent (a memory sender stands in for SMTP and the SMS gateway). */
  sent: MemorySender;
  /** An integration-system token (unrestricted FHIR access): what `call` sends by default. */
  token: string;
  /** The platform itself, for setting up fixtures (a system repository: checked for validity, audited). */
  fixtures: Repository;
  /** A token for any role, as `cauyte token issue` would print it. */
  tokenFor(role: Role, claims?: Partial<TokenClaims>): Promise<string>;
  /** Listens on a free loopback port; returns the base URL. */
  listen(): Promise<string>;
}

export const TEST_SECRET = 'test-secret-key-0123456789abcdefghijklmnopqrstuvwxyz';

export async function startTestPlatform(
  kind: DbKind,
  env: Record<string, string> = {},
  logStream?: NodeJS.WritableStream,
  opts: { domains?: readonly Domain[]; plugins?: NonNullable<Parameters<typeof buildPlatform>[1]>['plugins'] } = {},
): Promise<TestPlatform> {
  const testDb = await createTestDb(kind);
  const port = await freePort();
  const config = loadConfig({
    LOG_LEVEL: logStream ? 'info' : 'silent',
    CAUYTE_DATA_DIR: '/nonexistent',
    CAUYTE_JANUS: 'off',
    CAUYTE_ORTHANC: 'off',
    CAUYTE_CDS_BUNDLED: 'off',
    PORT: String(port),
    CAUYTE_SECRET_KEY: TEST_SECRET,
    CAUYTE_RATE_LIMIT: '1000000',
    ...env,
  });
  const sent = new MemorySender();
  const platform = await buildPlatform(config, {
    domains: opts.domains,
    plugins: opts.plugins,
    db: testDb.db,
    logger: !!logStream,
    logStream,
    senders: { email: sent, sms: sent },
    mqttPort: env.MQTT_URL ? undefined : 0,
  });
  let baseUrl: string | undefined;
  let n = 0;
  const tokenFor = async (role: Role, claims: Partial<TokenClaims> = {}) => {
    const account = await platform.accounts.create({
      username: `t-${role.replace(/_/g, '-')}-${++n}-${Date.now() % 100000}`,
      displayName: role,
      kind: 'service',
      roles: [{ role, organizationId: claims.org ?? '' }],
    });
    const scope =
      claims.scope ?? (role === 'integration' ? 'system/*.read system/*.write' : role === 'citizen' ? 'patient/*.read' : 'user/*.read user/*.write');
    return (await platform.tokens.issue({ sub: account.id, role, scope, ...claims })).token;
  };
  const token = await tokenFor('integration');
  return {
    ...platform,
    testDb,
    sent,
    token,
    fixtures: platform.store.system('test fixtures', 'test'),
    tokenFor,
    async listen() {
      if (!baseUrl) {
        // HOST in `env` (e.g. a weak link's host address) or loopback.
        await platform.app.listen({ port, host: config.HOST });
        baseUrl = config.baseUrl;
      }
      return baseUrl;
    },
    async close() {
      await platform.close();
      await testDb.drop();
    },
  };
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * Sends JSON through Fastify's inject (no network) and returns status, headers and parsed body.
 * Sends the platform's integration token unless headers.authorization is given ('' = none).
 */
export async function call<T = any>(p: Platform & { token?: string }, method: string, url: string, body?: unknown, headers: Record<string, string> = {}) {
  const h: Record<string, string> = { ...(p.token ? { authorization: `Bearer ${p.token}` } : {}), ...headers };
  if (h.authorization === '') delete h.authorization;
  const res = await p.app.inject({
    method: method as 'GET',
    url,
    headers: body !== undefined ? { 'content-type': 'application/fhir+json', ...h } : h,
    payload: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  let json: T | undefined;
  try {
    json = res.body ? (JSON.parse(res.body) as T) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.statusCode, headers: res.headers, body: json as T, text: res.body, raw: res.rawPayload };
}

export function patient(family: string, given: string[], extra: Partial<Record<string, unknown>> = {}): Resource {
  return { resourceType: 'Patient', name: [{ family, given }], ...extra } as Resource;
}

/** Signs in through the HTTP API the way the web app does; returns cookie + CSRF headers. */
let sessionAccounts = 0;

/**
 * A staff member of `role` at `org` (with a practitioner record when given) signed in through the
 * web sign-in (password and second factor): the headers of their session (cookie and CSRF token).
 * For what is a person's and not an app token's (the inbox, the live stream).
 */
export async function sessionFor(p: Platform, role: Role, opts: { org?: string; practitioner?: string } = {}): Promise<Record<string, string>> {
  const totpSecret = new Secret({ size: 20 }).base32;
  const username = `nv.phien.${++sessionAccounts}.${Date.now().toString(36)}`;
  await p.accounts.create({
    username,
    displayName: 'Nhân viên thử',
    kind: 'staff',
    password: DEMO_PASSWORD,
    practitionerId: opts.practitioner,
    roles: [{ role, organizationId: opts.org ?? '' }],
    totpSecret,
  });
  return signIn(p, username, totpSecret);
}

export async function signIn(p: Platform, username: string, totpSecret?: string): Promise<Record<string, string>> {
  const login = await call(p, 'POST', '/api/auth/login', { username, password: DEMO_PASSWORD }, { authorization: '', 'content-type': 'application/json' });
  if (login.status !== 200) throw new Error(`sign-in failed: ${login.status} ${login.text}`);
  const cookie = String(login.headers['set-cookie']).split(';')[0];
  const headers = { authorization: '', cookie, 'x-csrf-token': login.body.csrfToken as string };
  if (login.body.status === 'mfa-required') {
    const code = await freshTotpCode(totpSecret!, username); // each code is accepted once
    const mfa = await call(p, 'POST', '/api/auth/mfa', { code }, { ...headers, 'content-type': 'application/json' });
    if (mfa.status !== 200) throw new Error(`second factor failed: ${mfa.status} ${mfa.text}`);
  }
  return headers;
}
