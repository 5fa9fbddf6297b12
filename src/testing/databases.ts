/** Fresh, migrated databases for tests: PGlite (from the run's template dump) and PostgreSQL. */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { inject } from 'vitest';
import { PgliteDb, PostgresDb, type Db } from '../db/db.ts';

export type DbKind = 'pglite' | 'postgres';
export const DB_KINDS: DbKind[] = ['pglite', 'postgres'];

export function testDatabaseUrl(): string {
  return process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
}

export interface TestDb {
  db: Db;
  /** For PostgreSQL: the URL of this test database (to start a server process on it). */
  url?: string;
  drop(): Promise<void>;
}

/**
 * A fresh test database: migrated (from the run's template) inside vitest, or — with `empty`, and
 * always outside vitest (benchmarks) — with no schema at all, for the platform or a test to migrate.
 */
export async function createTestDb(kind: DbKind, opts: { empty?: boolean } = {}): Promise<TestDb> {
  const fromTemplate = !!process.env.VITEST && !opts.empty;
  if (kind === 'pglite') {
    if (!fromTemplate) {
      // BENCH_PGLITE_DIR (benchmarks and profiles; any caller outside a template): in a fresh
      // directory under it, on disk as the server runs it (else in memory).
      const parent = process.env.BENCH_PGLITE_DIR;
      if (parent) mkdirSync(parent, { recursive: true });
      const dir = parent ? mkdtempSync(join(parent, 'pglite-')) : undefined;
      const remove = () => dir && rmSync(dir, { recursive: true, force: true });
      let db: PgliteDb;
      try {
        db = await PgliteDb.open(dir);
      } catch (err) {
        remove();
        throw err;
      }
      const drop = async () => {
        try {
          await db.close();
        } finally {
          remove();
        }
      };
      return { db, drop };
    }
    const dump = new Blob([readFileSync(inject('pgliteTemplate'))]);
    const db = await PgliteDb.open(undefined, dump);
    return { db, drop: () => db.close() };
  }
  const run = process.env.VITEST ? inject('testRun') : undefined;
  const name = `cauyte_t_${run ?? 'bench'}_${randomBytes(6).toString('hex')}`;
  const base = testDatabaseUrl();
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(fromTemplate ? `CREATE DATABASE ${name} TEMPLATE cauyte_template_${run}` : `CREATE DATABASE ${name}`);
  await admin.end();
  const u = new URL(base);
  u.pathname = `/${name}`;
  const db = new PostgresDb(u.toString(), 8);
  return {
    db,
    url: u.toString(),
    async drop() {
      await db.close();
      const c = new pg.Client({ connectionString: base });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}
