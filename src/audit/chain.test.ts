/**
 * The chain's canonical form of a `detail` (chain.ts, jsonbOrdered) against the real databases: for
 * any JSON object — unicode keys of equal byte length, integer-like keys, nesting, numbers in every
 * notation — the canonical text computed before the insert equals the one computed over the row as
 * PostgreSQL and PGlite give it back from jsonb. If it did not, entries linked as they are written
 * would read as tampered with.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, DB_KINDS, type TestDb } from '../testing/databases.ts';
import { canonical, jsonbOrdered, type AuditRow } from './chain.ts';
import { AuditLog } from './audit.ts';
import { ServerSecret } from '../auth/secret.ts';
import { TEST_SECRET } from '../testing/platform.ts';

const row = (detail: Record<string, unknown> | null): AuditRow => ({
  id: 1,
  at: new Date('2026-12-02T00:00:00Z'),
  account_id: 'a',
  username: 'u',
  role: 'r',
  organization_id: null,
  client_id: null,
  action: 'search',
  outcome: 'success',
  resource_type: 'Patient',
  resource_id: null,
  patient_ids: [],
  reason: null,
  break_glass: false,
  ip: null,
  detail,
  chain_pos: 1,
  prev_hash: null,
  hash: null,
});

// Text as the platform stores it: any Unicode (no lone surrogates, no NUL: the edges refuse those).
const text = (maxLength: number) => fc.string({ unit: 'grapheme', maxLength }).filter((s) => !s.includes('\0'));
const key = fc.oneof(
  text(6),
  fc.constantFrom(
    'a',
    'b',
    'ab',
    'é',
    'ê',
    'ơ',
    'đ',
    'Việt',
    'query',
    'matches',
    '1',
    '10',
    '2',
    '01',
    '-1',
    '4294967295',
    '\u{1F600}',
    '__proto__',
    'constructor',
  ),
);
const leaf = fc.oneof(
  text(12),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.constantFrom(0.1, 1e21, 1e-7, 0.30000000000000004, -0, 123456789.125),
  fc.boolean(),
  fc.constant(null),
);
const json = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: 'small' }, leaf, fc.array(tie('value'), { maxLength: 4 }), tie('object')),
  object: fc.dictionary(key, tie('value'), { maxKeys: 6 }),
})).object as fc.Arbitrary<Record<string, unknown>>;

describe.each(DB_KINDS)('canonical detail of an audit row on %s', (kind) => {
  let t: TestDb;
  beforeAll(async () => {
    t = await createTestDb(kind);
  });
  afterAll(async () => t?.drop());

  it('is the same before the insert and after reading the jsonb back', async () => {
    await t.db.exec('CREATE TABLE canon_probe (n int, detail jsonb)');
    await fc.assert(
      fc.asyncProperty(fc.array(json, { minLength: 1, maxLength: 20 }), async (details) => {
        await t.db.query('DELETE FROM canon_probe');
        await t.db.query('INSERT INTO canon_probe SELECT n::int, d FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS x(d, n)', [JSON.stringify(details)]);
        const back = (await t.db.query<{ detail: Record<string, unknown> }>('SELECT detail FROM canon_probe ORDER BY n')).rows;
        details.forEach((d, i) => expect(canonical(row(back[i].detail))).toBe(canonical(row(jsonbOrdered(d)))));
      }),
      { numRuns: 60 },
    );
    // The orders a plain key sort would get wrong: by byte length first, then by bytes.
    expect(Object.keys(jsonbOrdered({ bb: 1, é: 2, a: 3, ab: 4, b: 5 }))).toEqual(['a', 'b', 'ab', 'bb', 'é']);
    // A key named __proto__ is kept as data.
    expect(JSON.stringify(jsonbOrdered(JSON.parse('{"__proto__": 1, "a": 2}')))).toBe('{"a":2,"__proto__":1}');
  });

  it('links grouped entries with any detail as they are written, and the chain verifies', async () => {
    const audit = new AuditLog(t.db, new ServerSecret(TEST_SECRET));
    let n = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(json, { minLength: 1, maxLength: 8 }), async (details) => {
        const first = n;
        await Promise.all(details.map((detail) => audit.group.append({ action: 'search', outcome: 'success', resourceId: `d-${n++}`, detail })));
        const back = (
          await t.db.query<{ resource_id: string; detail: unknown; chain_pos: number | null }>(
            'SELECT resource_id, detail, chain_pos FROM audit_log WHERE id IN (SELECT id FROM audit_log ORDER BY id DESC LIMIT $1)',
            [details.length],
          )
        ).rows;
        for (const row of back) {
          const i = Number(row.resource_id.slice(2)) - first;
          expect(row.detail).toEqual(JSON.parse(JSON.stringify(details[i])));
        }
        expect(await audit.verify()).toMatchObject({ ok: true, unsealed: 0 });
      }),
      { numRuns: 25 },
    );
    await audit.stop();
  });
});
