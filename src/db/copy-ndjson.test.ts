/**
 * COPY_NDJSON on both databases: jsonb values with quotes, backslashes, escaped control characters
 * (including the delimiter and quote bytes as `\u0001`/`\u0002`), non-ASCII text and nesting come
 * out of `COPY … TO` byte for byte as their text form, one per line; a value that gets quoted (a
 * raw quote byte in text that is not jsonb) is refused by the check, as is a stream cut inside a row.
 */
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { to } from 'pg-copy-streams';
import type { PgliteDb, PostgresDb } from './db.ts';
import { DB_KINDS, createTestDb, type TestDb } from '../testing/databases.ts';
import { COPY_BINARY, COPY_NDJSON, NdjsonCheck, checkNdjson, ndjsonFromBinary } from './copy-ndjson.ts';

const values = [
  { a: 'b"c\\n', q: "it's" },
  { name: 'Nguyễn Văn Ả', emoji: '🩺' },
  { ctl: '\u0001\u0002\n\r\t\u001f', back: '\\\\', slash: '/' },
  { nested: [{ x: 1 }, null, true, 1.5e-7], empty: '' },
  [],
];

/** The binary COPY's whole output (PGlite's blob; on PostgreSQL collected from STDOUT), as NDJSON. */
async function copyBinary(t: TestDb, sql: string): Promise<Buffer> {
  if (t.db.kind === 'pglite') {
    const r = await (t.db as PgliteDb).pglite.query(`COPY (${sql}) TO '/dev/blob' (${COPY_BINARY})`);
    return ndjsonFromBinary(Buffer.from(await r.blob!.arrayBuffer()));
  }
  const client = await (t.db as PostgresDb).pool.connect();
  try {
    const out: Buffer[] = [];
    for await (const b of client.query(to(`COPY (${sql}) TO STDOUT (${COPY_BINARY})`))) out.push(b as Buffer);
    return ndjsonFromBinary(Buffer.concat(out));
  } finally {
    client.release();
  }
}

async function copy(t: TestDb, sql: string): Promise<Buffer> {
  if (t.db.kind === 'pglite') {
    const r = await (t.db as PgliteDb).pglite.query(`COPY (${sql}) TO '/dev/blob' (${COPY_NDJSON})`);
    return checkNdjson(Buffer.from(await r.blob!.arrayBuffer()));
  }
  const client = await (t.db as PostgresDb).pool.connect();
  try {
    const out: Buffer[] = [];
    for await (const b of client.query(to(`COPY (${sql}) TO STDOUT (${COPY_NDJSON})`)).pipe(new NdjsonCheck())) out.push(b as Buffer);
    return Buffer.concat(out);
  } finally {
    client.release();
  }
}

describe.each(DB_KINDS)('COPY_NDJSON on %s', (kind) => {
  let t: TestDb;
  beforeAll(async () => {
    t = await createTestDb(kind);
    await t.db.query('CREATE TABLE ndjson_t (n int, content jsonb)');
    for (const [i, v] of values.entries()) await t.db.query('INSERT INTO ndjson_t VALUES ($1, $2::jsonb)', [i, JSON.stringify(v)]);
  });
  afterAll(() => t?.drop());

  it('gives each jsonb value as its text form, one per line', async () => {
    const text = await t.db.query<{ content: string }>('SELECT content::text AS content FROM ndjson_t ORDER BY n');
    const out = (await copy(t, 'SELECT content::text FROM ndjson_t ORDER BY n')).toString('utf8');
    expect(out).toBe(text.rows.map((r) => `${r.content}\n`).join(''));
    expect(
      out
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l)),
    ).toEqual(values);
  });

  it('the binary form gives the same bytes; no rows give none; a null or a raw newline is refused', async () => {
    const sql = 'SELECT content::text FROM ndjson_t ORDER BY n';
    expect((await copyBinary(t, sql)).equals(await copy(t, sql))).toBe(true);
    expect((await copyBinary(t, 'SELECT content::text FROM ndjson_t WHERE false')).length).toBe(0);
    await expect(copyBinary(t, 'SELECT NULL::text')).rejects.toThrow(/null/);
    await expect(copyBinary(t, "SELECT 'a' || chr(10) || 'b'")).rejects.toThrow(/raw newline/);
    await expect(copyBinary(t, "SELECT 'a', 'b'")).rejects.toThrow(/one column/);
  });

  it('refuses a value that had to be quoted', async () => {
    await expect(copy(t, "SELECT 'not' || chr(2) || 'json'")).rejects.toThrow(/quoted/);
  });
});

describe('NdjsonCheck', () => {
  it('refuses a stream cut inside a row', async () => {
    const run = async () => {
      for await (const _ of Readable.from([Buffer.from('{"a":1}\n{"b"')]).pipe(new NdjsonCheck())) void _;
    };
    await expect(run()).rejects.toThrow(/inside a row/);
    expect(() => checkNdjson(Buffer.from('{"a":1}'))).toThrow(/inside a row/);
  });
});

describe('ndjsonFromBinary', () => {
  it('refuses output that is not binary COPY or is cut short', () => {
    expect(() => ndjsonFromBinary(Buffer.from('{"a":1}\n'))).toThrow(/not binary/);
    const head = Buffer.concat([Buffer.from('5047434f50590aff0d0a00', 'hex'), Buffer.alloc(8)]);
    const row = Buffer.concat([Buffer.from([0, 1, 0, 0, 0, 7]), Buffer.from('{"a":1}')]);
    expect(ndjsonFromBinary(Buffer.concat([head, row, Buffer.from([0xff, 0xff])])).toString()).toBe('{"a":1}\n');
    expect(() => ndjsonFromBinary(Buffer.concat([head, row.subarray(0, 9)]))).toThrow(/cut short/);
    expect(() => ndjsonFromBinary(Buffer.concat([head, row]))).toThrow(/cut short/);
  });
});
