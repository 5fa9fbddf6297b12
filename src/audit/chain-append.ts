/**
 * The write behind grouped audit appends (src/audit/group.ts): a group of entries, committed and —
 * where it can be — already linked into the hash chain, before any of their accesses answers.
 *
 * Usually one statement, outside any transaction (one round trip, one commit). This process keeps
 * the chain head it last wrote or saw (`head`) and a few row ids taken from the sequence; it
 * computes each row's HMAC from that head and sends rows and new head together. The statement
 * tries the chain's lock (never waits: the sealer and retention hold it for whole passes) and
 * moves the head only if it still is the one the rows were linked to (checked on the newest
 * committed head row, under its row lock); the linked rows go in only with that move. Otherwise:
 * - the lock was held: the rows go in unlinked in the same statement, for the sealer;
 * - the head had moved (another process, a seal this process did not see): nothing is written;
 *   the entries are written again the careful way (`inTransaction`: lock, read the
 *   head, link, write, commit), which also refreshes `head`.
 * What keeps two writers from linking after one head is that conditional UPDATE: it re-reads the
 * newest committed head row under its row lock (so a head moved after the statement's snapshot
 * is seen); `audit_log.chain_pos` being UNIQUE is the backstop. If the statement's answer is lost
 * after it committed, the rows' pre-drawn ids show it, so a group is never written twice.
 *
 * Rules: an entry's `detail` is hashed in the form jsonb gives it back (chain.ts, jsonbOrdered),
 * so entries with one are linked as they are written too. Ids taken ahead are used within a second
 * or dropped, so the id order of entries stays close to their time order (lists sort by id). A
 * failure rejects the whole group (group.ts), so no access answers without its entry.
 */
import type { Db, Queryable } from '../db/db.ts';
import type { ServerSecret } from '../auth/secret.ts';
import { canonical, GENESIS, jsonbOrdered, SEAL_LOCK, type AuditEntry, type AuditRow } from './chain.ts';

/** How long ids taken ahead from the sequence may wait for entries. */
const IDS_FRESH_MS = 1_000;
/** Ids taken ahead with each group (at least), for the next group's linked rows. */
const IDS_AHEAD = 32;

const ENTRY_COLUMNS = `account_id, username, role, organization_id, client_id, action, outcome, resource_type, resource_id, patient_ids, reason, break_glass, ip`;
const ENTRY_TYPES = `account_id text, username text, role text, organization_id text, client_id text, action text, outcome text, resource_type text,
  resource_id text, patient_ids text[], reason text, break_glass boolean, ip text`;
/** Columns as read from the record set `x`. */
const fromX = (columns: string) =>
  columns
    .split(', ')
    .map((c) => `x.${c}`)
    .join(', ');
const X_COLUMNS = fromX(ENTRY_COLUMNS);
/** n new row ids from the table's sequence, as a text[] expression. */
// The sequence is looked up once per statement (an InitPlan), not once per id: looked up per id it
// was a catalog lookup and a text-to-regclass parse for each (≈ 3 µs each, 32+ per group).
const nextIds = (n: string) => `ARRAY(SELECT nextval((SELECT pg_get_serial_sequence('audit_log', 'id')::regclass))::text FROM generate_series(1, ${n}::int))`;

/** Rows linked into the chain: ids, times and chain fields computed here. */
const LINKED_TYPES = `id bigint, at timestamptz, ${ENTRY_TYPES}, detail jsonb, chain_pos bigint, prev_hash text, hash text`;
const LINKED_COLUMNS = `id, at, ${ENTRY_COLUMNS}, detail, chain_pos, prev_hash, hash`;

/**
 * The one-statement append. $1 lock key; $2/$3 the new head; $4/$5 the head the rows were linked to;
 * $6 the rows (linked; unlinked — without their chain fields — when the lock was held by another);
 * $7 how many ids to take ahead for the next group.
 */
const APPEND_ONE_STATEMENT = `WITH lock AS MATERIALIZED (SELECT pg_try_advisory_xact_lock($1::bigint) AS got),
  moved AS (
    UPDATE audit_head SET chain_pos = $2::bigint, hash = $3::text
    WHERE id = 1 AND chain_pos = $4::bigint AND hash = $5::text AND (SELECT got FROM lock)
    RETURNING 1
  ),
  linked AS (
    INSERT INTO audit_log (${LINKED_COLUMNS})
    SELECT ${fromX(LINKED_COLUMNS)} FROM jsonb_to_recordset($6::jsonb) AS x(${LINKED_TYPES}), moved
    RETURNING 1
  ),
  loose AS (
    INSERT INTO audit_log (id, at, ${ENTRY_COLUMNS}, detail)
    SELECT x.id, x.at, ${X_COLUMNS}, x.detail FROM jsonb_to_recordset($6::jsonb) AS x(${LINKED_TYPES}) WHERE NOT (SELECT got FROM lock)
    RETURNING 1
  )
  SELECT (SELECT got FROM lock) AS got, (SELECT count(*) FROM moved)::int AS moved, ${nextIds('$7')} AS ids`;

/** Rows already linked into the chain, and the chain's new head (the careful path). */
const INSERT_LINKED = `WITH ins AS (
    INSERT INTO audit_log (${LINKED_COLUMNS})
    SELECT ${fromX(LINKED_COLUMNS)} FROM jsonb_to_recordset($1::jsonb) AS x(${LINKED_TYPES})
    RETURNING 1
  ), head AS (
    INSERT INTO audit_head (id, chain_pos, hash) VALUES (1, $2::bigint, $3::text)
    ON CONFLICT (id) DO UPDATE SET chain_pos = EXCLUDED.chain_pos, hash = EXCLUDED.hash
    RETURNING 1
  )
  SELECT (SELECT count(*) FROM ins) AS n`;

/** An entry as a row of jsonb_to_recordset (the columns every path writes). */
function entryRow(e: AuditEntry) {
  return {
    account_id: e.accountId ?? null,
    username: e.username ?? null,
    role: e.role ?? null,
    organization_id: e.organizationId ?? null,
    client_id: e.clientId ?? null,
    action: e.action,
    outcome: e.outcome,
    resource_type: e.resourceType ?? null,
    resource_id: e.resourceId ?? null,
    patient_ids: [...new Set(e.patientIds ?? [])],
    reason: e.reason ?? null,
    break_glass: e.breakGlass ?? false,
    ip: e.ip ?? null,
  };
}

/** The chain head as stored: position and "<hash>.<mac of the head>". */
export interface ChainHead {
  pos: number;
  stored: string;
}

export class ChainAppend {
  /** The head this process last wrote or saw; undefined until the careful path has read it. */
  private head?: ChainHead;
  private ids: { values: number[]; at: number } = { values: [], at: 0 };
  /** Groups written unlinked because the sealer or retention held the chain's lock (tests, metrics). */
  unlinkedGroups = 0;
  /** Groups written by the one statement, and by the careful path (tests, metrics). */
  readonly paths = { oneStatement: 0, careful: 0 };

  constructor(
    private readonly db: Db,
    private readonly secret: ServerSecret,
  ) {}

  /** Told by the sealer after it moved (or read) the head, so the next group links after it; positions only grow. */
  sawHead(head: ChainHead): void {
    if (!this.head || head.pos > this.head.pos) this.head = head;
  }

  /** Writes a group (see the header); resolves once it is committed. */
  async write(take: () => AuditEntry[]): Promise<void> {
    const entries = take();
    if (entries.length === 0) return;
    const head = this.head;
    if (!head) return this.inTransaction(entries);
    const ids = this.takeIds(entries.length) ?? (await this.freshIds(entries.length));
    const { rows, last } = this.link(entries, ids, head);
    let r;
    try {
      r = (
        await this.db.query<{ got: boolean; moved: number; ids: string[] }>(
          APPEND_ONE_STATEMENT,
          [SEAL_LOCK, last.pos, last.stored, head.pos, head.stored, JSON.stringify(rows), Math.max(IDS_AHEAD, entries.length * 2)],
          { prepare: true },
        )
      ).rows[0];
    } catch (err) {
      // The statement failed, or its answer was lost after it committed (a dropped connection):
      // the rows' ids tell which. Written: done. Not written: the careful path writes the group.
      this.head = undefined;
      const ids = rows.map((x) => x.id);
      if (await this.written(ids, err)) return;
      return this.inTransaction(entries);
    }
    this.ids = { values: r.ids.map(Number), at: Date.now() };
    if (!r.got) {
      this.unlinkedGroups += 1;
      return;
    }
    if (r.moved === 1) {
      this.paths.oneStatement += 1;
      if (this.head === head) this.head = last;
      return;
    }
    // The head had moved: nothing was written.
    this.head = undefined;
    return this.inTransaction(entries);
  }

  /** Whether rows with these ids are in (all of them: one statement wrote them); rethrows `err` when that cannot be known. */
  private async written(ids: number[], err: unknown): Promise<boolean> {
    let n: number;
    try {
      n = (await this.db.query<{ n: number }>('SELECT count(*)::int AS n FROM audit_log WHERE id = ANY($1::bigint[])', [ids])).rows[0].n;
    } catch {
      throw err;
    }
    return n === ids.length;
  }

  /** n ids for now (and more kept for the next groups), from the sequence. */
  private async freshIds(n: number): Promise<number[]> {
    const r = await this.db.query<{ ids: string[] }>(`SELECT ${nextIds('$1')} AS ids`, [n + IDS_AHEAD], { prepare: true });
    const all = r.rows[0].ids.map(Number);
    this.ids = { values: all.slice(n), at: Date.now() };
    return all.slice(0, n);
  }

  /** n ids taken ahead, if that many are fresh; they are used once. */
  private takeIds(n: number): number[] | undefined {
    if (this.ids.values.length < n || Date.now() - this.ids.at > IDS_FRESH_MS) return undefined;
    return this.ids.values.splice(0, n);
  }

  /** The entries as rows linked after `head`, and the new head. */
  private link(entries: AuditEntry[], ids: readonly (number | string)[], head: ChainHead) {
    let pos = head.pos;
    let prev = head.pos === 0 && !head.stored ? GENESIS : head.stored.split('.')[0];
    const at = new Date();
    const rows = entries.map((e, i) => {
      pos += 1;
      const detail = e.detail ? jsonbOrdered(e.detail) : null;
      const r: AuditRow = { id: Number(ids[i]), at, ...entryRow(e), detail, chain_pos: pos, prev_hash: prev, hash: null };
      r.hash = this.secret.hmac(prev + canonical(r));
      prev = r.hash;
      return { ...r, at: at.toISOString() };
    });
    return { rows, last: { pos, stored: `${prev}.${this.secret.hmac(`head:${pos}:${prev}`)}` } };
  }

  /**
   * The careful path, in a transaction: try the lock; held by another, everything goes in unlinked;
   * else read the head and fresh ids, link, and write rows and head in one statement.
   */
  private async inTransaction(entries: AuditEntry[]): Promise<void> {
    this.paths.careful += 1;
    const head = await this.db.transaction(async (tx) => {
      const lock = await tx.query<{ got: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS got', [SEAL_LOCK], { prepare: true });
      if (!lock.rows[0].got) {
        this.unlinkedGroups += 1;
        await appendLoose(tx, entries);
        return undefined;
      }
      const h = (
        await tx.query<{ chain_pos: number | null; hash: string | null; ids: string[] }>(
          `SELECT (SELECT chain_pos FROM audit_head WHERE id = 1) AS chain_pos, (SELECT hash FROM audit_head WHERE id = 1) AS hash,
             ${nextIds('$1')} AS ids`,
          [entries.length + IDS_AHEAD],
          { prepare: true },
        )
      ).rows[0];
      const from: ChainHead = h.chain_pos === null ? { pos: 0, stored: '' } : { pos: Number(h.chain_pos), stored: h.hash! };
      const { rows, last } = this.link(entries, h.ids, from);
      await tx.query(INSERT_LINKED, [JSON.stringify(rows), last.pos, last.stored], { prepare: true });
      this.ids = { values: h.ids.slice(entries.length).map(Number), at: Date.now() };
      return last;
    });
    if (head) this.head = head;
  }
}

/** Entries appended unlinked (for the sealer), in one statement. */
async function appendLoose(q: Queryable, entries: AuditEntry[]): Promise<void> {
  if (entries.length === 0) return;
  const rows = entries.map((e) => ({ ...entryRow(e), detail: e.detail ?? null }));
  // Id and time from the table's defaults.
  await q.query(
    `INSERT INTO audit_log (${ENTRY_COLUMNS}, detail) SELECT ${X_COLUMNS}, x.detail FROM jsonb_to_recordset($1::jsonb) AS x(${ENTRY_TYPES}, detail jsonb)`,
    [JSON.stringify(rows)],
    { prepare: true },
  );
}
