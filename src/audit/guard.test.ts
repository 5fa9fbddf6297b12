/**
 * The audit trail's append-only guard (migrations 010 and 245) on both databases, column by column:
 * every column of `audit_log` — read from the catalogue, so a column added later is tested too —
 * is refused a change on an unsealed and on a sealed row; the chain fields may be filled in once,
 * on an unsealed row, and never changed after; no row may be deleted outside declared retention.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, DB_KINDS, type TestDb } from '../testing/databases.ts';

const CHAIN = new Set(['chain_pos', 'prev_hash', 'hash']);

/** A value of the column's type different from the one the test row holds. */
function otherValue(type: string, column: string): string {
  switch (type) {
    case 'bigint':
      return `${column} + 1000000`;
    case 'timestamp with time zone':
      return `${column} + interval '1 second'`;
    case 'boolean':
      return `NOT ${column}`;
    case 'ARRAY':
      return `'{đổi}'::text[]`;
    case 'jsonb':
      return `'{"đổi": 1}'::jsonb`;
    case 'text':
      return `'đổi'`;
    default:
      throw new Error(`audit_log.${column} has a type this test does not change yet: ${type}`);
  }
}

describe.each(DB_KINDS)('the audit trail guard on %s', (kind) => {
  let t: TestDb;
  let columns: { column_name: string; data_type: string; is_nullable: string }[];
  beforeAll(async () => {
    t = await createTestDb(kind);
    columns = (
      await t.db.query<{ column_name: string; data_type: string; is_nullable: string }>(
        "SELECT column_name, data_type, is_nullable FROM information_schema.columns WHERE table_name = 'audit_log' ORDER BY ordinal_position",
      )
    ).rows;
  });
  afterAll(async () => t?.drop());

  /** A new unsealed row with every entry column filled in. */
  async function entry(): Promise<number> {
    return (
      await t.db.query<{ id: number }>(
        `INSERT INTO audit_log (account_id, username, role, organization_id, client_id, action, outcome, resource_type, resource_id, patient_ids, reason, break_glass, ip, detail)
         VALUES ('a', 'bs.lan', 'commune_clinician', 'org-1', 'app-1', 'read', 'success', 'Patient', 'p-1', '{p-1}', 'khám', true, '127.0.0.1', '{"n": 1}')
         RETURNING id`,
      )
    ).rows[0].id;
  }
  const seal = (id: number) => t.db.query("UPDATE audit_log SET chain_pos = $1, prev_hash = 'p', hash = 'h' WHERE id = $1", [id]);

  it('refuses a change to any entry column, sealed or not, and to NULL where a column may be NULL', async () => {
    const entryColumns = columns.filter((c) => !CHAIN.has(c.column_name));
    expect(entryColumns.length).toBeGreaterThanOrEqual(16);
    let refused = 0;
    for (const sealed of [false, true]) {
      for (const c of entryColumns) {
        const changes = [otherValue(c.data_type, c.column_name), ...(c.is_nullable === 'YES' ? ['NULL'] : [])];
        for (const value of changes) {
          const id = await entry();
          if (sealed) await seal(id);
          const before = (await t.db.query('SELECT * FROM audit_log WHERE id = $1', [id])).rows[0];
          await expect(t.db.query(`UPDATE audit_log SET ${c.column_name} = ${value} WHERE id = $1`, [id]), `${c.column_name} = ${value}`).rejects.toThrow(
            /append-only/,
          );
          expect((await t.db.query('SELECT * FROM audit_log WHERE id = $1', [id])).rows[0]).toEqual(before);
          refused += 1;
        }
      }
    }
    expect(refused).toBeGreaterThanOrEqual(2 * entryColumns.length);
  });

  it('lets the chain fields be filled in once, on an unsealed row, with nothing else', async () => {
    const id = await entry();
    await expect(t.db.query("UPDATE audit_log SET chain_pos = $1, prev_hash = 'p', hash = 'h', username = 'khác' WHERE id = $1", [id])).rejects.toThrow(
      /append-only/,
    );
    await seal(id);
    expect((await t.db.query('SELECT chain_pos, hash, username FROM audit_log WHERE id = $1', [id])).rows[0]).toEqual({
      chain_pos: id,
      hash: 'h',
      username: 'bs.lan',
    });
    for (const change of ["hash = 'h2'", "prev_hash = 'p2'", 'chain_pos = chain_pos + 1000000', 'chain_pos = NULL'])
      await expect(t.db.query(`UPDATE audit_log SET ${change} WHERE id = $1`, [id]), change).rejects.toThrow(/append-only/);
    await expect(t.db.query('DELETE FROM audit_log WHERE id = $1', [id])).rejects.toThrow(/append-only/);
    const loose = await entry();
    await expect(t.db.query('DELETE FROM audit_log WHERE id = $1', [loose])).rejects.toThrow(/append-only/);
  });
});
