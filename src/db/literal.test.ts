/**
 * Hot statements on the embedded database run as PREPARE + EXECUTE with each parameter written as
 * an SQL literal (src/db/db.ts `literal`). Whatever a parameter holds — quotes, backslashes,
 * braces, commas, Vietnamese text, injection attempts — it must arrive as exactly that value and
 * never as SQL: checked as a property against a real PostgreSQL (PGlite).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { literal, PgliteDb } from './db.ts';

describe('SQL literals for prepared statements on PGlite', () => {
  let db: PgliteDb;
  beforeAll(async () => {
    db = await PgliteDb.open();
  });
  afterAll(async () => db?.close());

  const text = fc
    .oneof(
      fc.string({ unit: 'grapheme' }),
      fc.string(),
      fc.constantFrom("'; DROP TABLE x; --", "\\'", '\\', '"', '{a,b}', 'NULL', 'Nguyễn Văn "An"', "O'Brien", '\\\\"\'', ' , '),
    )
    .filter((s) => !s.includes('\0'));

  it('round-trips any text and any text array exactly', async () => {
    await fc.assert(
      fc.asyncProperty(text, fc.array(fc.option(text, { nil: null }), { maxLength: 6 }), async (s, arr) => {
        const one = (await db.pglite.query<{ v: string }>(`SELECT ${literal(s)}::text AS v`)).rows[0].v;
        expect(one).toBe(s);
        const many = (await db.pglite.query<{ v: (string | null)[] }>(`SELECT ${literal(arr)}::text[] AS v`)).rows[0].v;
        expect(many).toEqual(arr);
      }),
      { numRuns: 300 },
    );
  });

  it('gives back any parameter exactly through a prepared statement, inside a transaction or not', async () => {
    await fc.assert(
      fc.asyncProperty(text, fc.array(fc.option(text, { nil: null }), { maxLength: 6 }), async (s, arr) => {
        const sql = 'SELECT $1::text AS v, $2::text[] AS w';
        const direct = (await db.query<{ v: string; w: (string | null)[] }>(sql, [s, arr], { prepare: true })).rows[0];
        const inTx = await db.transaction(async (tx) => (await tx.query<{ v: string; w: (string | null)[] }>(sql, [s, arr], { prepare: true })).rows[0]);
        expect(direct).toEqual({ v: s, w: arr });
        expect(inTx).toEqual({ v: s, w: arr });
      }),
      { numRuns: 200 },
    );
  });

  it('runs a prepared statement with hostile parameters as values', async () => {
    await db.exec('CREATE TABLE lit (a text)');
    await db.query('INSERT INTO lit VALUES ($1)', ['ok']);
    for (const hostile of ["x'); DELETE FROM lit; --", "x'); DELETE FROM lit; SELECT ('", "' OR '1'='1", '\\', "''"]) {
      const r = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM lit WHERE a = $1', [hostile], { prepare: true });
      expect(r.rows[0].n).toBe(0);
    }
    expect((await db.query<{ n: number }>('SELECT count(*)::int AS n FROM lit WHERE a = $1', ['ok'], { prepare: true })).rows[0].n).toBe(1);
    expect((await db.query<{ n: number }>('SELECT count(*)::int AS n FROM lit')).rows[0].n).toBe(1);
  });
});
