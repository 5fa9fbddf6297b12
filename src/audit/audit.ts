/**
 * The audit trail (nhật ký truy cập). Entries are appended inside the transaction of the action
 * they record, so no committed action escapes it. A sealer then links committed entries into a
 * hash chain in the order it seals them: hash = HMAC(server secret, prev_hash + canonical row).
 * Changing, inserting or deleting a sealed row breaks the chain at that row, and without the
 * secret nobody can recompute it; `cauyte audit verify` walks the chain and names the first bad row.
 * An access that writes nothing (a plain read outside a transaction) instead waits for its entry's
 * grouped append (src/audit/group.ts) to commit before it answers.
 * Retention (src/audit/retention.ts) may remove the oldest entries by moving the chain's start.
 */
import type { AuditEvent } from '@medplum/fhirtypes';
import type { Db, Queryable } from '../db/db.ts';
import type { ServerSecret } from '../auth/secret.ts';
import { AuditGroup } from './group.ts';
import { ChainAppend } from './chain-append.ts';
import { canonical, GENESIS, SEAL_LOCK, type AuditEntry, type AuditRow } from './chain.ts';

export { SEAL_LOCK, type AuditEntry, type AuditRow };

export interface VerifyResult {
  ok: boolean;
  checked: number;
  unsealed: number;
  /** The first entry that does not fit the chain, and why. */
  firstBad?: { id: number | null; chainPos: number; problem: string };
}

export interface HeadRow {
  chain_pos: number;
  hash: string;
  start_pos: number;
  start_hash: string | null;
}

/**
 * `INSERT INTO audit_log ... SELECT ...` for one entry, with the patient ids and break-glass flag
 * given as SQL expressions, so a caller can append the entry inside the very statement that
 * performs the access (`from`/`where` select what the access found).
 */
export function auditInsertSql(
  bind: (v: unknown) => string,
  e: AuditEntry,
  exprs: { patientIds: string; breakGlass: string; /** jsonb merged into the detail (e.g. a count the statement finds). */ detailExtra?: string },
  from = '',
  where = '',
): string {
  return `INSERT INTO audit_log (account_id, username, role, organization_id, client_id, action, outcome, resource_type, resource_id, patient_ids, reason, break_glass, ip, detail)
    SELECT ${[e.accountId, e.username, e.role, e.organizationId, e.clientId, e.action, e.outcome, e.resourceType, e.resourceId].map((v) => `${bind(v ?? null)}::text`).join(', ')},
      ${exprs.patientIds}, ${bind(e.reason ?? null)}::text, ${exprs.breakGlass}, ${bind(e.ip ?? null)}::text, ${
        exprs.detailExtra
          ? `coalesce(${bind(e.detail ? JSON.stringify(e.detail) : null)}::jsonb, '{}'::jsonb) || ${exprs.detailExtra}`
          : `${bind(e.detail ? JSON.stringify(e.detail) : null)}::jsonb`
      }
    ${from ? `FROM ${from}` : ''} ${where ? `WHERE ${where}` : ''}`;
}
export class AuditLog {
  private timer?: NodeJS.Timeout;
  private sealing?: Promise<number>;
  /** Grouped appends for accesses outside any transaction (src/audit/group.ts). */
  readonly group: AuditGroup;
  /** The write behind the grouped appends (chain-append.ts). */
  readonly chainAppend: ChainAppend;

  constructor(
    private readonly db: Db,
    private readonly secret: ServerSecret,
  ) {
    this.chainAppend = new ChainAppend(db, secret);
    this.group = new AuditGroup((take) => this.chainAppend.write(take));
  }

  /** Groups written unlinked because the sealer or retention held the chain's lock (tests, metrics). */
  get unlinkedGroups(): number {
    return this.chainAppend.unlinkedGroups;
  }

  async append(q: Queryable, e: AuditEntry): Promise<void> {
    const params: unknown[] = [];
    const bind = (v: unknown) => `$${params.push(v)}`;
    await q.query(
      auditInsertSql(bind, e, { patientIds: `${bind([...new Set(e.patientIds ?? [])])}::text[]`, breakGlass: bind(e.breakGlass ?? false) }),
      params,
    );
  }

  /** Appends outside any other transaction (sign-in failures, denials). */
  async record(e: AuditEntry): Promise<void> {
    await this.append(this.db, e);
  }

  /** Links every committed, unsealed entry into the chain. Returns how many were sealed. */
  seal(): Promise<number> {
    // One sealing at a time in this process; the advisory lock covers other processes.
    this.sealing ??= this.sealOnce().finally(() => {
      this.sealing = undefined;
    });
    return this.sealing;
  }

  private async sealOnce(): Promise<number> {
    const done = await this.db.transaction(async (tx): Promise<{ n: number; head?: { pos: number; stored: string } }> => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [SEAL_LOCK]);
      const head = (await tx.query<{ chain_pos: number; hash: string }>('SELECT chain_pos, hash FROM audit_head WHERE id = 1')).rows[0];
      let pos = head?.chain_pos ?? 0;
      let prev = head ? head.hash.split('.')[0] : GENESIS; // stored as "<hash>.<mac of the head>"
      const rows = (await tx.query<AuditRow>('SELECT * FROM audit_log WHERE chain_pos IS NULL ORDER BY id LIMIT 5000')).rows;
      if (rows.length === 0) return { n: 0, head: head ? { pos: Number(head.chain_pos), stored: head.hash } : undefined };
      const ids: number[] = [];
      const positions: number[] = [];
      const prevs: string[] = [];
      const hashes: string[] = [];
      for (const r of rows) {
        pos += 1;
        const sealed = { ...r, chain_pos: pos };
        const hash = this.secret.hmac(prev + canonical(sealed));
        ids.push(r.id);
        positions.push(pos);
        prevs.push(prev);
        hashes.push(hash);
        prev = hash;
      }
      await tx.query(
        `UPDATE audit_log a SET chain_pos = x.pos, prev_hash = x.prev, hash = x.hash
         FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[]) AS x(id, pos, prev, hash) WHERE a.id = x.id`,
        [ids, positions, prevs, hashes],
      );
      const headMac = this.secret.hmac(`head:${pos}:${prev}`);
      await tx.query(
        `INSERT INTO audit_head (id, chain_pos, hash) VALUES (1, $1, $2)
         ON CONFLICT (id) DO UPDATE SET chain_pos = EXCLUDED.chain_pos, hash = EXCLUDED.hash`,
        [pos, `${prev}.${headMac}`],
      );
      return { n: rows.length, head: { pos, stored: `${prev}.${headMac}` } };
    });
    // The next grouped append links after this head (chain-append.ts).
    if (done.head) this.chainAppend.sawHead(done.head);
    return done.n;
  }

  /** Seals in the background every intervalMs. */
  start(intervalMs = 500): void {
    this.timer = setInterval(() => {
      this.seal().catch(() => undefined);
    }, intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.group.flushed();
    await this.sealing?.catch(() => undefined);
  }

  /** Walks the whole chain in order (from its start, which retention may have moved) and reports the first entry that does not fit. */
  async verify(): Promise<VerifyResult> {
    // One snapshot for the head and the walk: entries linked meanwhile are not half seen (which
    // would read as "the last entries were deleted").
    return this.db.transaction(async (q) => {
      await q.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ');
      return this.verifyIn(q);
    });
  }

  private async verifyIn(q: Queryable): Promise<VerifyResult> {
    const head = (await q.query<HeadRow>('SELECT chain_pos, hash, start_pos, start_hash FROM audit_head WHERE id = 1')).rows[0];
    const unsealed = (await q.query<{ n: number }>('SELECT count(*)::int AS n FROM audit_log WHERE chain_pos IS NULL')).rows[0].n;
    const start = this.chainStart(head);
    if ('problem' in start) return { ok: false, checked: 0, unsealed, firstBad: { id: null, chainPos: head?.start_pos ?? 0, problem: start.problem } };
    const walked = await this.walk(q, start.pos, start.hash);
    const { checked, prev } = walked;
    if (walked.bad) return { ok: false, checked, unsealed, firstBad: walked.bad };
    const headPos = head?.chain_pos ?? 0;
    if (head) {
      const [headHash, mac] = head.hash.split('.');
      if (mac !== this.secret.hmac(`head:${headPos}:${headHash}`)) {
        return { ok: false, checked, unsealed, firstBad: { id: null, chainPos: headPos, problem: 'the chain head record was altered' } };
      }
      if (headPos !== start.pos + checked || headHash !== prev) {
        return {
          ok: false,
          checked,
          unsealed,
          firstBad: {
            id: null,
            chainPos: start.pos + checked + 1,
            problem: `the chain ends at position ${start.pos + checked} but was sealed up to ${headPos}: the last entries were deleted`,
          },
        };
      }
    } else if (checked > 0) {
      return { ok: false, checked, unsealed, firstBad: { id: null, chainPos: 0, problem: 'the chain head record is missing' } };
    }
    return { ok: true, checked, unsealed };
  }

  /** Where the chain starts: position 0 and the genesis hash, or where retention last cut it (MAC-checked). */
  chainStart(head: HeadRow | undefined): { pos: number; hash: string } | { problem: string } {
    if (!head || !head.start_pos) return { pos: 0, hash: GENESIS };
    const [hash, mac] = (head.start_hash ?? '').split('.');
    if (!hash || mac !== this.startMac(head.start_pos, hash)) return { problem: 'the chain start record (moved by retention) was altered' };
    return { pos: head.start_pos, hash };
  }

  /** The MAC that makes a chain start genuine: only the holder of the server secret can move the start. */
  startMac(pos: number, hash: string): string {
    return this.secret.hmac(`start:${pos}:${hash}`);
  }

  /**
   * Checks sealed entries after position `from` (the first must link to `prev`) in chain order,
   * up to position `to` (default: the end). Returns how many fit, the last hash, and the first
   * entry that does not fit.
   */
  async walk(
    q: Queryable,
    from: number,
    prev: string,
    to = Number.MAX_SAFE_INTEGER,
  ): Promise<{ checked: number; prev: string; bad?: VerifyResult['firstBad'] }> {
    let expectedPos = from + 1;
    let checked = 0;
    const PAGE = 5000;
    for (;;) {
      const rows = (
        await q.query<AuditRow>('SELECT * FROM audit_log WHERE chain_pos >= $1 AND chain_pos <= $2 ORDER BY chain_pos LIMIT $3', [expectedPos, to, PAGE])
      ).rows;
      for (const r of rows) {
        if (r.chain_pos !== expectedPos) {
          return {
            checked,
            prev,
            bad: {
              id: null,
              chainPos: expectedPos,
              problem: `entry at chain position ${expectedPos} is missing (deleted); the next present entry is id ${r.id} at position ${r.chain_pos}`,
            },
          };
        }
        if (r.prev_hash !== prev) {
          return {
            checked,
            prev,
            bad: { id: r.id, chainPos: expectedPos, problem: `entry id ${r.id} does not link to the entry before it (inserted or re-chained)` },
          };
        }
        if (this.secret.hmac(prev + canonical(r)) !== r.hash) {
          return { checked, prev, bad: { id: r.id, chainPos: expectedPos, problem: `entry id ${r.id} was changed after it was sealed` } };
        }
        prev = r.hash;
        expectedPos++;
        checked++;
      }
      if (rows.length < PAGE) break;
    }
    return { checked, prev };
  }

  /**
   * Entries about one patient's record, newest first: who, when, what, why. Three kinds, each with
   * its own limit, so that none can push another off the page: accesses by others (`others`), refused
   * attempts by others (`refused`: anyone can make many), and the reader's own actions (`own`, with
   * `self` their account). `before`: only entries older than this id (the next page).
   */
  async forPatient(patientId: string, opts: { self?: string; before?: number; others?: number; refused?: number; own?: number } = {}): Promise<AuditRow[]> {
    const { self = '', before = null, others = 200, refused = 50, own = 50 } = opts;
    const base = `SELECT * FROM audit_log WHERE patient_ids @> ARRAY[$1]::text[] AND ($2::bigint IS NULL OR id < $2)`;
    const r = await this.db.query<AuditRow>(
      `(${base} AND account_id IS DISTINCT FROM $3 AND outcome = 'success' ORDER BY id DESC LIMIT $4)
       UNION ALL (${base} AND account_id IS DISTINCT FROM $3 AND outcome <> 'success' ORDER BY id DESC LIMIT $5)
       UNION ALL (${base} AND account_id = $3 ORDER BY id DESC LIMIT $6)
       ORDER BY id DESC`,
      [patientId, before, self, others, refused, own],
    );
    return r.rows;
  }

  async list(opts: {
    limit: number;
    before?: number;
    accountId?: string;
    patientId?: string;
    action?: string;
    outcome?: string;
    breakGlass?: boolean;
  }): Promise<AuditRow[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (opts.before) where.push(`id < $${params.push(opts.before)}`);
    if (opts.accountId) where.push(`account_id = $${params.push(opts.accountId)}`);
    if (opts.patientId) where.push(`patient_ids @> ARRAY[$${params.push(opts.patientId)}]::text[]`);
    if (opts.action) where.push(`action = $${params.push(opts.action)}`);
    if (opts.outcome) where.push(`outcome = $${params.push(opts.outcome)}`);
    if (opts.breakGlass) where.push('break_glass');
    return (
      await this.db.query<AuditRow>(
        `SELECT * FROM audit_log ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ${Math.min(Math.max(1, opts.limit), 1000)}`,
        params,
      )
    ).rows;
  }
}

const ACTION_CODES: Record<string, { code: string; display: string; subtype?: string }> = {
  read: { code: 'R', display: 'Read', subtype: 'read' },
  search: { code: 'E', display: 'Execute', subtype: 'search-type' },
  create: { code: 'C', display: 'Create', subtype: 'create' },
  update: { code: 'U', display: 'Update', subtype: 'update' },
  delete: { code: 'D', display: 'Delete', subtype: 'delete' },
  export: { code: 'R', display: 'Read', subtype: 'export' },
};

/** An audit row as a FHIR R4 AuditEvent. */
export function toAuditEvent(r: AuditRow): AuditEvent {
  const a = ACTION_CODES[r.action];
  const login = r.action.startsWith('login') || r.action === 'logout';
  return {
    resourceType: 'AuditEvent',
    id: String(r.id),
    type: login
      ? { system: 'http://dicom.nema.org/resources/ontology/DCM', code: '110114', display: 'User Authentication' }
      : { system: 'http://terminology.hl7.org/CodeSystem/audit-event-type', code: 'rest', display: 'RESTful Operation' },
    ...(a?.subtype ? { subtype: [{ system: 'http://hl7.org/fhir/restful-interaction', code: a.subtype }] } : {}),
    ...(a ? { action: a.code as AuditEvent['action'] } : login ? { action: 'E' as const } : {}),
    recorded: new Date(r.at).toISOString(),
    outcome: r.outcome === 'success' ? '0' : r.outcome === 'denied' ? '4' : '8',
    ...(r.outcome !== 'success' ? { outcomeDesc: r.outcome === 'denied' ? 'Access denied' : 'Failed' } : {}),
    ...(r.reason
      ? {
          purposeOfEvent: [
            {
              text: r.reason,
              ...(r.break_glass
                ? { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: 'ETREAT', display: 'Emergency Treatment' }] }
                : {}),
            },
          ],
        }
      : {}),
    agent: [
      {
        requestor: true,
        who: r.account_id
          ? { identifier: { system: 'https://fhir.cauyte.vn/sid/account', value: r.account_id }, display: r.username ?? undefined }
          : { display: r.client_id ?? 'anonymous' },
        ...(r.role ? { role: [{ text: r.role }] } : {}),
        ...(r.ip ? { network: { address: r.ip, type: '2' as const } } : {}),
      },
    ],
    source: {
      observer: { display: 'Cầu Y Tế' },
      type: [{ system: 'http://terminology.hl7.org/CodeSystem/security-source-type', code: '4', display: 'Application Server' }],
    },
    entity: [
      ...(r.resource_type ? [{ what: { reference: r.resource_id ? `${r.resource_type}/${r.resource_id}` : undefined, display: r.resource_type } }] : []),
      ...r.patient_ids.map((p) => ({
        what: { reference: `Patient/${p}` },
        type: { system: 'http://terminology.hl7.org/CodeSystem/audit-entity-type', code: '1', display: 'Person' },
      })),
    ],
  } as AuditEvent;
}
