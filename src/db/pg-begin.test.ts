/**
 * BEGIN sent with a transaction's first statement (pg-begin.ts), on PostgreSQL over one pooled
 * connection: the first statement runs inside the transaction (same transaction id as the next,
 * undone by a rollback), a connection's later transactions send one message fewer, a failing first
 * statement (bad SQL, a prepared one, a constraint) rolls back and leaves the connection and the
 * statement's name usable, a BEGIN the server lost (DEALLOCATE) is prepared again, and scripts, COPY
 * and multi-statement text as a first step still run inside the transaction; a handle used after
 * its transaction is refused. COMMIT sent with a transaction's last statement: one message for a
 * one-statement transaction, committed when it answers; nothing runs after it; a failing last
 * statement (constraint, bad SQL) leaves nothing and the connection usable.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresDb, type Queryable } from './db.ts';
import { createTestDb, type TestDb } from '../testing/databases.ts';
import { BEGIN_STATEMENT } from './pg-begin.ts';

let t: TestDb;
let db: PostgresDb;

beforeAll(async () => {
  t = await createTestDb('postgres', { empty: true });
  // One connection, so every transaction below reuses it (and its prepared BEGIN).
  db = new PostgresDb(t.url!, 1);
  await db.exec('CREATE TABLE pb (id int PRIMARY KEY, note text)');
});
afterAll(async () => {
  await db.close();
  await t.drop();
});

/** The statements the client sends during fn (one per client.query call). */
async function sent<T>(fn: () => Promise<T>): Promise<{ result: T; texts: string[] }> {
  const proto = pg.Client.prototype as unknown as { query: (...a: unknown[]) => unknown };
  const orig = proto.query;
  const texts: string[] = [];
  proto.query = function (this: unknown, q: unknown, ...rest: unknown[]) {
    texts.push(typeof q === 'string' ? q : ((q as { text?: string }).text ?? '?'));
    return orig.call(this, q, ...rest);
  };
  try {
    return { result: await fn(), texts };
  } finally {
    proto.query = orig;
  }
}

/** Runs step inside a transaction that then fails, and expects that failure (so the step is rolled back). */
async function failsAfter(step: (tx: Queryable) => Promise<unknown>): Promise<void> {
  await expect(
    db.transaction(async (tx) => {
      await step(tx);
      throw new Error('stop');
    }),
  ).rejects.toThrow('stop');
}

const xid = 'SELECT pg_current_xact_id()::text AS x';
/** The transaction id, as a prepared statement (what the pipelined BEGIN goes with). */
const xidOf = async (tx: { query: PostgresDb['query'] }) => (await tx.query<{ x: string }>(xid, [], { prepare: true })).rows[0].x;

describe('BEGIN with the first statement (PostgreSQL)', () => {
  it('runs the first statement inside the transaction, with one message fewer once BEGIN is prepared', async () => {
    const first = await sent(() => db.transaction(async (tx) => [await xidOf(tx), await xidOf(tx)]));
    expect(first.result[0]).toBe(first.result[1]);
    // The connection's first transaction prepares BEGIN by itself.
    expect(first.texts).toEqual(['BEGIN', xid, xid, 'COMMIT']);
    const client = await db.pool.connect();
    expect((client as unknown as { connection: { parsedStatements: Record<string, string> } }).connection.parsedStatements[BEGIN_STATEMENT]).toBe('BEGIN');
    client.release();

    const second = await sent(() => db.transaction(async (tx) => [await xidOf(tx), await xidOf(tx)]));
    expect(second.result[0]).toBe(second.result[1]);
    expect(second.result[0]).not.toBe(first.result[0]);
    expect(second.texts).toEqual([xid, xid, 'COMMIT']);
  });

  it('undoes the first statement when the transaction fails, and returns its rows when it commits', async () => {
    await failsAfter((tx) => tx.query('INSERT INTO pb (id, note) VALUES ($1, $2)', [1, 'rolled back']));
    expect((await db.query('SELECT * FROM pb WHERE id = 1')).rows).toEqual([]);
    const r = await db.transaction((tx) => tx.query<{ id: number }>('INSERT INTO pb (id, note) VALUES ($1, $2) RETURNING id', [2, 'kept'], { prepare: true }));
    expect(r.rows).toEqual([{ id: 2 }]);
    expect(r.rowCount).toBe(1);
    expect((await db.query('SELECT note FROM pb WHERE id = 2')).rows).toEqual([{ note: 'kept' }]);
  });

  it('a failing first statement rolls back and leaves the connection and the statement name usable', async () => {
    // A constraint: the transaction is aborted, nothing of it stays.
    await expect(db.transaction((tx) => tx.query('INSERT INTO pb (id, note) VALUES ($1, $2)', [2, 'duplicate'], { prepare: true }))).rejects.toThrow(
      /duplicate key/,
    );
    // SQL that does not parse, as a prepared statement: its name must not be taken for prepared.
    const bad = 'SELEC id FROM pb WHERE id = $1';
    for (let i = 0; i < 2; i++) await expect(db.transaction((tx) => tx.query(bad, [2], { prepare: true }))).rejects.toThrow(/syntax error/);
    // A value the driver cannot send (fails before anything reaches the server).
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    await expect(db.transaction((tx) => tx.query('SELECT $1::jsonb AS j', [circular]))).rejects.toThrow();
    // The connection is idle again, outside any transaction, and the next transactions work.
    expect((await db.query<{ s: string }>("SELECT current_setting('transaction_isolation') AS s")).rows[0].s).toBe('read committed');
    const r = await db.transaction(async (tx) => {
      await tx.query('INSERT INTO pb (id, note) VALUES ($1, $2)', [3, 'after failures'], { prepare: true });
      return (await tx.query<{ n: number }>('SELECT count(*)::int AS n FROM pb')).rows[0].n;
    });
    expect(r).toBe(2);
    const client = await db.pool.connect();
    try {
      // Outside a transaction again: a statement here is its own transaction.
      const a = (await client.query(xid)).rows[0].x;
      const b = (await client.query(xid)).rows[0].x;
      expect(a).not.toBe(b);
    } finally {
      client.release();
    }
  });

  it('a script or a COPY as the first step still runs inside the transaction', async () => {
    await failsAfter((tx) => tx.exec("INSERT INTO pb VALUES (10, 'script'); INSERT INTO pb VALUES (11, 'script')"));
    await failsAfter((tx) => tx.copyFrom!([{ sql: 'COPY pb (id, note) FROM STDIN', data: '12\tcopied\n' }]));
    expect((await db.query('SELECT id FROM pb WHERE id >= 10')).rows).toEqual([]);
  });

  it('recovers when the server lost the prepared BEGIN: the statement runs inside a fresh BEGIN', async () => {
    await db.transaction((tx) => tx.query('SELECT $1::int AS one', [1]));
    await db.exec('DEALLOCATE ALL');
    await failsAfter(async (tx) => {
      await tx.query('INSERT INTO pb (id, note) VALUES ($1, $2)', [20, 'after deallocate']);
      await tx.query('INSERT INTO pb (id, note) VALUES ($1, $2)', [21, 'after deallocate']);
    });
    expect((await db.query('SELECT id FROM pb WHERE id IN (20, 21)')).rows).toEqual([]);
    // BEGIN is prepared again, and pipelined after that.
    const again = await sent(() => db.transaction((tx) => tx.query('SELECT $1::int AS one', [1])));
    expect(again.texts).toEqual(['SELECT $1::int AS one', 'COMMIT']);
  });

  it('a plain text query of several statements as the first step still runs, inside the transaction', async () => {
    await failsAfter((tx) => tx.query("INSERT INTO pb VALUES (30, 'a'); INSERT INTO pb VALUES (31, 'b')"));
    expect((await db.query('SELECT id FROM pb WHERE id >= 30')).rows).toEqual([]);
  });

  it('a handle used after its transaction ended is refused (it would run on a pooled connection)', async () => {
    let kept: Parameters<Parameters<PostgresDb['transaction']>[0]>[0] | undefined;
    await db.transaction(async (tx) => {
      kept = tx;
    });
    await expect(kept!.query('SELECT $1::int AS one', [1])).rejects.toThrow(/transaction is over/);
    const client = await db.pool.connect();
    try {
      expect((await client.query(xid)).rows[0].x).not.toBe((await client.query(xid)).rows[0].x);
    } finally {
      client.release();
    }
  });

  it('a transaction that runs no statement sends nothing', async () => {
    const r = await sent(() => db.transaction(async () => 'nothing'));
    expect(r.result).toBe('nothing');
    expect(r.texts).toEqual([]);
  });
});

describe('COMMIT with the last statement (PostgreSQL)', () => {
  /** Another connection: what it sees is committed. */
  const seen = async (id: number) => {
    const other = new PostgresDb(t.url!, 1);
    try {
      return (await other.query<{ note: string }>('SELECT note FROM pb WHERE id = $1', [id])).rows.map((r) => r.note);
    } finally {
      await other.close();
    }
  };
  // (Not the text the tests above prepared: the DEALLOCATE ALL above left node-postgres believing those prepared.)
  const insert = 'INSERT INTO pb (note, id) VALUES ($2, $1) RETURNING id';

  it('a one-statement transaction is one message: BEGIN, the statement and COMMIT, committed when it answers', async () => {
    await db.transaction((tx) => tx.query('SELECT $1::int AS one', [1])); // BEGIN prepared on the connection
    const r = await sent(() => db.transaction((tx) => tx.query<{ id: number }>(insert, [100, 'one trip'], { prepare: true, last: true })));
    expect(r.result.rows).toEqual([{ id: 100 }]);
    expect(r.texts).toEqual([insert]);
    expect(await seen(100)).toEqual(['one trip']);
    // Outside any transaction afterwards: each statement on the connection is its own.
    expect((await db.query<{ x: string }>(xid)).rows[0].x).not.toBe((await db.query<{ x: string }>(xid)).rows[0].x);
  });

  it('commits what came before the last statement with it', async () => {
    const r = await sent(() =>
      db.transaction(async (tx) => {
        await tx.query(insert, [101, 'before'], { prepare: true });
        await tx.query(insert, [102, 'last'], { prepare: true, last: true });
      }),
    );
    expect(r.texts).toEqual([insert, insert]);
    expect([...(await seen(101)), ...(await seen(102))]).toEqual(['before', 'last']);
  });

  it('refuses any statement after the last, and a failing last statement leaves nothing', async () => {
    await expect(
      db.transaction(async (tx) => {
        await tx.query(insert, [103, 'last'], { prepare: true, last: true });
        await tx.query(insert, [104, 'after'], { prepare: true });
      }),
    ).rejects.toThrow(/transaction is over/);
    expect(await seen(103)).toEqual(['last']);
    expect(await seen(104)).toEqual([]);
    // A constraint in the last statement: the earlier statement is undone too; COMMIT never ran.
    await expect(
      db.transaction(async (tx) => {
        await tx.query(insert, [105, 'undone'], { prepare: true });
        await tx.query(insert, [103, 'duplicate'], { prepare: true, last: true });
      }),
    ).rejects.toThrow(/duplicate key/);
    expect(await seen(105)).toEqual([]);
    // Bad SQL as the last (and first) statement, twice: its name is not taken for prepared.
    const bad = 'SELEC id FROM pb WHERE id = $1';
    for (let i = 0; i < 2; i++) await expect(db.transaction((tx) => tx.query(bad, [1], { prepare: true, last: true }))).rejects.toThrow(/syntax error/);
    // The connection works on.
    await db.transaction((tx) => tx.query(insert, [106, 'after failures'], { prepare: true, last: true }));
    expect(await seen(106)).toEqual(['after failures']);
  });

  it('works on a connection’s first transaction, after a lost BEGIN, and for plain text', async () => {
    const fresh = new PostgresDb(t.url!, 1);
    try {
      await fresh.transaction((tx) => tx.query(insert, [110, 'first on its connection'], { prepare: true, last: true }));
      // (DEALLOCATE ALL drops every named statement, which node-postgres cannot know: an unnamed one here.)
      await fresh.exec('DEALLOCATE ALL');
      await fresh.transaction((tx) => tx.query(insert, [111, 'after deallocate'], { last: true }));
      await fresh.transaction((tx) => tx.query("INSERT INTO pb VALUES (112, 'plain')", undefined, { last: true }));
    } finally {
      await fresh.close();
    }
    expect([...(await seen(110)), ...(await seen(111)), ...(await seen(112))]).toEqual(['first on its connection', 'after deallocate', 'plain']);
  });
});
