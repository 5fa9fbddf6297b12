/**
 * Once per test run: a migrated PGlite database saved as a dump (each test file loads it in
 * under a second instead of creating one in five), and a migrated PostgreSQL template database.
 * PostgreSQL must be reachable: a run without it fails here, loudly, rather than skipping tests.
 * Names carry this run's id, so runs in other checkouts on the same server never touch each other's
 * databases.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import pg from 'pg';
import { PgliteDb, PostgresDb } from '../db/db.ts';
import { migrate } from '../db/migrate.ts';
import { testDatabaseUrl } from './databases.ts';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dir = join(tmpdir(), `cauyte-test-${process.pid}`);
  mkdirSync(dir, { recursive: true });

  const lite = await PgliteDb.open();
  await migrate(lite);
  const dump = await lite.pglite.dumpDataDir('none');
  const dumpPath = join(dir, 'pglite-template.tar');
  writeFileSync(dumpPath, Buffer.from(await dump.arrayBuffer()));
  await lite.close();
  project.provide('pgliteTemplate', dumpPath);

  const run = `${process.pid.toString(36)}${Date.now().toString(36).slice(-4)}`;
  const TEMPLATE_DB = `cauyte_template_${run}`;
  project.provide('testRun', run);
  const url = testDatabaseUrl();
  const admin = new pg.Client({ connectionString: url });
  try {
    await admin.connect();
  } catch (err) {
    throw new Error(`PostgreSQL is not reachable at ${url} (${(err as Error).message}). Start it (see .ci/run) or set TEST_DATABASE_URL.`, { cause: err });
  }
  await admin.query(`DROP DATABASE IF EXISTS ${TEMPLATE_DB} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${TEMPLATE_DB}`);
  const template = new PostgresDb(withDatabase(url, TEMPLATE_DB), 2);
  await migrate(template);
  await template.close();
  await admin.end();

  return async () => {
    const c = new pg.Client({ connectionString: url });
    await c.connect();
    const left = await c.query(`SELECT datname FROM pg_database WHERE datname LIKE 'cauyte_t_${run}_%' OR datname = '${TEMPLATE_DB}'`);
    for (const row of left.rows) await c.query(`DROP DATABASE IF EXISTS ${row.datname} WITH (FORCE)`);
    await c.end();
  };
}

function withDatabase(url: string, db: string): string {
  const u = new URL(url);
  u.pathname = `/${db}`;
  return u.toString();
}

declare module 'vitest' {
  export interface ProvidedContext {
    pgliteTemplate: string;
    /** This run's id: test databases are cauyte_t_<run>_<random>, the template cauyte_template_<run>. */
    testRun: string;
  }
}
