/**
 * What the audit trail's hash chain is made of: an entry as handed in, a row as stored, the lock
 * held while the chain is extended by more than one statement, and the canonical form of a row that
 * its HMAC covers. Shared by the log (audit.ts), its sealer and the grouped append (chain-append.ts).
 *
 * Rules: `canonical` is the chain's format — changing it breaks the verification of every row
 * already sealed.
 */

export interface AuditEntry {
  accountId?: string;
  username?: string;
  role?: string;
  organizationId?: string;
  clientId?: string;
  action: string;
  outcome: 'success' | 'denied' | 'failure';
  resourceType?: string;
  resourceId?: string;
  patientIds?: string[];
  reason?: string;
  breakGlass?: boolean;
  ip?: string;
  detail?: Record<string, unknown>;
}

export interface AuditRow {
  id: number;
  at: Date;
  account_id: string | null;
  username: string | null;
  role: string | null;
  organization_id: string | null;
  client_id: string | null;
  action: string;
  outcome: string;
  resource_type: string | null;
  resource_id: string | null;
  patient_ids: string[];
  reason: string | null;
  break_glass: boolean;
  ip: string | null;
  detail: Record<string, unknown> | null;
  chain_pos: number | null;
  prev_hash: string | null;
  hash: string | null;
}

/** The hash before the first row. */
export const GENESIS = '0'.repeat(64);

/** Held while sealing (and while retention moves the chain's start, and a group is linked). */
export const SEAL_LOCK = 4_242_003;

/** The row's content, in a fixed key order, as the HMAC input. */
export function canonical(r: AuditRow): string {
  return JSON.stringify([
    r.id,
    new Date(r.at).toISOString(),
    r.account_id,
    r.username,
    r.role,
    r.organization_id,
    r.client_id,
    r.action,
    r.outcome,
    r.resource_type,
    r.resource_id,
    [...(r.patient_ids ?? [])],
    r.reason,
    r.break_glass,
    r.ip,
    r.detail ?? null,
    r.chain_pos,
  ]);
}

/**
 * A `detail` as the database will give it back from jsonb: JSON values only (what JSON.stringify
 * keeps), every object's keys in jsonb's order — shorter keys (in UTF-8 bytes) first, equal lengths
 * by their bytes. A row's HMAC computed over this before the insert equals the one computed over the
 * row read back, so an entry with a detail can be linked into the chain as it is written.
 */
export function jsonbOrdered(detail: Record<string, unknown>): Record<string, unknown> {
  return order(JSON.parse(JSON.stringify(detail))) as Record<string, unknown>;
}

function order(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(order);
  if (v === null || typeof v !== 'object') return v;
  const keys = Object.keys(v).map((k) => ({ k, b: Buffer.from(k, 'utf8') }));
  keys.sort((x, y) => x.b.length - y.b.length || Buffer.compare(x.b, y.b));
  const out: Record<string, unknown> = {};
  // defineProperty: a key named "__proto__" is data like any other (an assignment would set the prototype).
  for (const { k } of keys)
    Object.defineProperty(out, k, { value: order((v as Record<string, unknown>)[k]), enumerable: true, writable: true, configurable: true });
  return out;
}
