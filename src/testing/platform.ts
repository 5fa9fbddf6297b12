/** A whole platform (Fastify app + FHIR service) on a fresh test database. */
import { createServer, type AddressInfo } from 'node:net';
import type { Resource } from '@medplum/fhirtypes';
import { loadConfig } from '../config.ts';
import { buildPlatform, type Platform } from '../server.ts';
import { createTestDb, type DbKind, type TestDb } from './databases.ts';

export interface TestPlatform extends Platform {
  testDb: TestDb;
  /** Listens on a free loopback port; returns the base URL. */
  listen(): Promise<string>;
}

export async function startTestPlatform(kind: DbKind, env: Record<string, string> = {}): Promise<TestPlatform> {
  const testDb = await createTestDb(kind);
  const port = await freePort();
  const config = loadConfig({ LOG_LEVEL: 'silent', CAUYTE_DATA_DIR: '/nonexistent', PORT: String(port), ...env });
  const platform = await buildPlatform(config, { db: testDb.db, logger: false });
  let baseUrl: string | undefined;
  return {
    ...platform,
    testDb,
    async listen() {
      if (!baseUrl) {
        await platform.app.listen({ port, host: '127.0.0.1' });
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

/** Sends JSON through Fastify's inject (no network) and returns status, headers and parsed body. */
export async function call<T = any>(p: Platform, method: string, url: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await p.app.inject({
    method: method as 'GET',
    url,
    headers: body !== undefined ? { 'content-type': 'application/fhir+json', ...headers } : headers,
    payload: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
  let json: T | undefined;
  try {
    json = res.body ? (JSON.parse(res.body) as T) : undefined;
  } catch {
    json = undefined;
  }
  return { status: res.statusCode, headers: res.headers, body: json as T, text: res.body };
}

export function patient(family: string, given: string[], extra: Partial<Record<string, unknown>> = {}): Resource {
  return { resourceType: 'Patient', name: [{ family, given }], ...extra } as Resource;
}
