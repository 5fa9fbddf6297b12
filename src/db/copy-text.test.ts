/** COPY text lines round-trip through PostgreSQL's own parser, on both databases. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, DB_KINDS, type TestDb } from '../testing/databases.ts';
import { copyField, copyLine } from './copy-text.ts';

describe('copy text format', () => {
  it('escapes the characters COPY treats specially and writes NULL as \\N', () => {
    expect(copyField('a\tb\nc\rd\\e')).toBe('a\\tb\\nc\\rd\\\\e');
    expect(copyField(null)).toBe('\\N');
    expect(copyField(undefined)).toBe('\\N');
    expect(copyField(true)).toBe('t');
    expect(copyField(1.5)).toBe('1.5');
    expect(() => copyField(NaN)).toThrow();
    expect(() => copyField({})).toThrow();
    expect(copyLine(['x', null, 3])).toBe('x\t\\N\t3\n');
  });
});

describe.each(DB_KINDS)('copyFrom on %s', (kind) => {
  let t: TestDb;
  beforeAll(async () => {
    t = await createTestDb(kind);
    await t.db.exec('CREATE TABLE copy_probe (a text, b jsonb, c bigint)');
  });
  afterAll(async () => t?.drop());

  const values: [string | null, unknown, number][] = [
    ['tab\there, newline\nthere, backslash \\ and \\N, CR\r', { s: 'quote " back\\slash \n tab \t ư' }, 1],
    [null, [1, 'two'], 2],
    ['', 'x', 3],
  ];

  it('reads back exactly what was written, inside a transaction', async () => {
    await t.db.transaction(async (tx) => {
      await tx.copyFrom!('COPY copy_probe (a, b, c) FROM STDIN', values.map(([a, b, c]) => copyLine([a, JSON.stringify(b), c])).join(''));
    });
    const r = await t.db.query<{ a: string | null; b: unknown; c: number }>('SELECT a, b, c FROM copy_probe ORDER BY c');
    expect(r.rows.map((x) => [x.a, x.b, x.c])).toEqual(values);
  });

  it('a COPY in a transaction that fails leaves nothing', async () => {
    await expect(
      t.db.transaction(async (tx) => {
        await tx.copyFrom!('COPY copy_probe (a, b, c) FROM STDIN', copyLine(['kept?', '1', 10]));
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    const r = await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM copy_probe WHERE c = 10');
    expect(r.rows[0].n).toBe(0);
  });
});
