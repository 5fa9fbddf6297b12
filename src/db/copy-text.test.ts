/** COPY text lines round-trip through PostgreSQL's own parser, on both databases. */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
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
      await tx.copyFrom!([{ sql: 'COPY copy_probe (a, b, c) FROM STDIN', data: values.map(([a, b, c]) => copyLine([a, JSON.stringify(b), c])).join('') }]);
    });
    const r = await t.db.query<{ a: string | null; b: unknown; c: number }>('SELECT a, b, c FROM copy_probe ORDER BY c');
    expect(r.rows.map((x) => [x.a, x.b, x.c])).toEqual(values);
  });

  it('a COPY in a transaction that fails leaves nothing', async () => {
    await expect(
      t.db.transaction(async (tx) => {
        await tx.copyFrom!([{ sql: 'COPY copy_probe (a, b, c) FROM STDIN', data: copyLine(['kept?', '1', 10]) }]);
        throw new Error('abort');
      }),
    ).rejects.toThrow('abort');
    const r = await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM copy_probe WHERE c = 10');
    expect(r.rows[0].n).toBe(0);
  });

  const probe = 'COPY copy_probe (a, b, c) FROM STDIN';
  const count = async (from: number, to: number) =>
    (await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM copy_probe WHERE c BETWEEN $1 AND $2', [from, to])).rows[0].n;

  it('several statements in one call: the rows of each, built in turn, bytes or text, empty ones too', async () => {
    const built: number[] = [];
    await t.db.transaction(async (tx) => {
      await tx.copyFrom!([
        { sql: probe, data: copyLine(['ư một', '1', 101]) },
        { sql: '  copy copy_probe (a, c)   from   stdin ', data: new TextEncoder().encode(copyLine(['hai', 102]) + copyLine(['ba', 103])) },
        { sql: probe, data: '' },
        { sql: probe, data: () => (built.push(104), copyLine(['bốn', '[4]', 104])) },
      ]);
    });
    expect(built).toEqual([104]);
    const r = await t.db.query<{ a: string; c: number }>('SELECT a, c FROM copy_probe WHERE c BETWEEN 101 AND 104 ORDER BY c');
    expect(r.rows).toEqual([
      { a: 'ư một', c: 101 },
      { a: 'hai', c: 102 },
      { a: 'ba', c: 103 },
      { a: 'bốn', c: 104 },
    ]);
  });

  it('a table of more than one CopyData message (1 MiB each) arrives whole', async () => {
    const lines = Array.from({ length: 12_000 }, (_, i) => copyLine([`dòng ${i} ${'x'.repeat(120)}`, JSON.stringify({ i }), 1_000_000 + i]));
    expect(Buffer.byteLength(lines.join(''))).toBeGreaterThan(1.5 * 2 ** 20);
    await t.db.transaction((tx) => tx.copyFrom!([{ sql: probe, data: lines.join('') }]));
    expect(await count(1_000_000, 1_011_999)).toBe(12_000);
    const last = await t.db.query<{ a: string; b: { i: number } }>('SELECT a, b FROM copy_probe WHERE c = 1011999');
    expect(last.rows[0]).toEqual({ a: `dòng 11999 ${'x'.repeat(120)}`, b: { i: 11_999 } });
  });

  it('a statement that fails stops the rest, the transaction leaves nothing, and the connection goes on working', async () => {
    const later = vi.fn(() => copyLine(['never', '1', 203]));
    await expect(
      t.db.transaction(async (tx) => {
        await tx.copyFrom!([
          { sql: probe, data: copyLine(['first', '1', 201]) },
          { sql: probe, data: copyLine(['bad json', '{not json', 202]) },
          { sql: probe, data: copyLine(['third', '1', 203]) },
        ]);
      }),
    ).rejects.toThrow(/json/i);
    expect(await count(201, 203)).toBe(0);
    // A builder that throws fails the statement the same way.
    await expect(
      t.db.transaction(async (tx) => {
        await tx.copyFrom!([
          { sql: probe, data: copyLine(['first', '1', 211]) },
          {
            sql: probe,
            data: () => {
              throw new Error('broken builder');
            },
          },
          { sql: probe, data: later },
        ]);
      }),
    ).rejects.toThrow('broken builder');
    expect(later).not.toHaveBeenCalled();
    expect(await count(211, 213)).toBe(0);
    // The same pool goes on working: a transaction and a COPY after the failures.
    await t.db.transaction((tx) => tx.copyFrom!([{ sql: probe, data: copyLine(['after', '1', 221]) }]));
    expect(await count(221, 221)).toBe(1);
  });

  it('takes only COPY … FROM STDIN statements, refused before anything is sent', async () => {
    await expect(t.db.transaction((tx) => tx.copyFrom!([{ sql: 'COPY copy_probe FROM STDIN; DROP TABLE copy_probe', data: '' }]))).rejects.toThrow(
      /COPY … FROM STDIN/,
    );
    await expect(t.db.transaction((tx) => tx.copyFrom!([{ sql: 'DELETE FROM copy_probe', data: '' }]))).rejects.toThrow(/COPY … FROM STDIN/);
    expect(await count(1, 3)).toBe(3);
  });
});
