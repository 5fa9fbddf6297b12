/**
 * The platform's PostgreSQL sessions run in UTC whatever the server or database is set to (an
 * operator in Việt Nam may well set `timezone = 'Asia/Ho_Chi_Minh'`): day and month arithmetic in
 * SQL (`::date`, `to_char`, date literals against timestamptz) must give what it gives on PGlite and
 * in the tests, and days shown to people are computed as Vietnamese days explicitly
 * (src/platform/vietnam-time.ts).
 */
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { PostgresDb } from './db.ts';
import { createTestDb, type TestDb } from '../testing/databases.ts';

let t: TestDb;
let db: PostgresDb;

beforeAll(async () => {
  t = await createTestDb('postgres', { empty: true });
  const name = new URL(t.url!).pathname.slice(1);
  const admin = new pg.Client({ connectionString: t.url });
  await admin.connect();
  await admin.query(`ALTER DATABASE "${name}" SET TimeZone = 'Asia/Ho_Chi_Minh'`);
  await admin.end();
  db = new PostgresDb(t.url!, 2);
});
afterAll(async () => {
  await db?.close();
  await t?.drop();
});

it('runs in UTC on a database set to Asia/Ho_Chi_Minh', async () => {
  // A plain client (no session options) gets what the database says.
  const plain = new pg.Client({ connectionString: t.url });
  await plain.connect();
  const { rows } = await plain.query<{ tz: string }>("SELECT current_setting('TimeZone') AS tz");
  await plain.end();
  const ours = await db.query<{ tz: string; day: string; month: string }>(
    "SELECT current_setting('TimeZone') AS tz, ('2026-11-30T20:00:00Z'::timestamptz)::date::text AS day, to_char('2026-11-30T20:00:00Z'::timestamptz, 'YYYY-MM') AS month",
  );
  expect(rows[0].tz).toBe('Asia/Ho_Chi_Minh');
  expect(ours.rows[0]).toEqual({ tz: 'UTC', day: '2026-11-30', month: '2026-11' });
  const inTx = await db.transaction(async (tx) => (await tx.query<{ tz: string }>("SELECT current_setting('TimeZone') AS tz")).rows[0].tz);
  expect(inTx).toBe('UTC');
});
