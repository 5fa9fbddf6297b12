/**
 * A facility's insurance claims for its finished remote visits and for its part (as the receiving
 * hub) of concluded case conferences: check one (its tables and every problem), download its
 * signed XML, queue it for the BHXH gateway, list what was queued.
 *
 * Rules: through `claims.submit`, for the actor's own facility only (403 otherwise — checked on
 * the visit's performing facility, or the case's receiving facility, before anything is shown). Claims are billing, not care: the
 * facility's administrators hold them without reaching patients' records, so the platform reads
 * the visit (a system repository, audited with its reason naming the actor) and the access is
 * recorded against the actor, naming the patient (as charges are: src/visits/charges.ts). A visit
 * with problems is never signed or queued; a visit is queued once (its key is the table's key).
 */
import type { Organization } from '@medplum/fhirtypes';
import { AccessDenied } from '../auth/access.ts';
import type { AccessContext } from '../auth/actor.ts';
import { conflict } from '../fhir/outcome.ts';
import type { FhirStore } from '../fhir/store.ts';
import type { ClaimListItem, ClaimStatus, ClaimView, SubmissionView } from './contract.ts';
import type { CredentialStore } from './credentials.ts';
import { gatherVisit } from './gather.ts';
import { gatherConsult } from './gather-consult.ts';
import { FACILITY_CODE_SYSTEM, idValue } from './model.ts';
import { buildClaim, type BuiltClaim } from './xml130/claim.ts';
import type { ClaimFacts } from './xml130/facts.ts';

/** What is claimed: a finished visit, or the hub's part of a concluded case conference. */
export type ClaimKind = 'visit' | 'consult';

interface Claimable {
  facts: ClaimFacts;
  organizationId: string;
  patientId: string;
  /** The resource the transaction code is kept on (and the audit names). */
  recordType: 'Encounter' | 'Task';
  recordId: string;
}

export class ClaimProblems extends Error {
  constructor(readonly claim: BuiltClaim) {
    super('Hồ sơ chưa đủ dữ liệu để ký và gửi (the visit lacks data required by QĐ 130)');
  }
}

interface Row {
  visit_key: string;
  encounter_id: string;
  status: ClaimStatus;
  attempts: number;
  transaction_code: string | null;
  received_at: string | null;
  result_code: string | null;
  last_error: string | null;
  updated_at: string | Date;
  check_in_xml?: string;
  envelope_xml?: string;
}

export const submissionView = (r: Row): SubmissionView => ({
  status: r.status,
  attempts: r.attempts,
  ...(r.transaction_code ? { transactionCode: r.transaction_code } : {}),
  ...(r.received_at ? { receivedAt: r.received_at } : {}),
  ...(r.result_code ? { resultCode: r.result_code } : {}),
  ...(r.last_error ? { lastError: r.last_error } : {}),
  updatedAt: new Date(r.updated_at).toISOString(),
});

export class ClaimService {
  constructor(
    private readonly store: FhirStore,
    private readonly credentials: CredentialStore,
  ) {}

  private who(ctx: AccessContext): string {
    return ctx.actor.username ?? ctx.actor.accountId ?? 'staff';
  }

  /** The visit (or case) read by the platform for the actor, refused unless it is the actor's facility's. */
  private async visit(ctx: AccessContext, id: string, kind: ClaimKind = 'visit'): Promise<Claimable> {
    const orgId = ctx.actor.organizationId;
    if (!orgId) throw new AccessDenied('Tài khoản chưa gắn với cơ sở y tế (your account has no facility)');
    const reader = this.store.system(`insurance claim for ${this.who(ctx)} (${orgId})`, 'formats');
    const v: Claimable =
      kind === 'visit'
        ? await reader.transaction(async (tx) => {
            const g = await gatherVisit(tx, id);
            return { facts: g.facts, organizationId: g.organizationId, patientId: g.patientId, recordType: 'Encounter' as const, recordId: g.encounterId };
          })
        : await reader.transaction(async (tx) => {
            const g = await gatherConsult(tx, id);
            return { facts: g.facts, organizationId: g.organizationId, patientId: g.patientId, recordType: 'Task' as const, recordId: g.taskId };
          });
    if (v.organizationId !== orgId)
      throw new AccessDenied(
        kind === 'visit'
          ? 'Lần khám không thuộc cơ sở của bạn (not a visit of your facility)'
          : 'Ca hội chẩn không do cơ sở của bạn tiếp nhận (not a case your facility received)',
        403,
        false,
        v.patientId,
      );
    return v;
  }

  private async record(ctx: AccessContext, v: Claimable, what: string): Promise<void> {
    await this.store.as(ctx, 'claims.submit').record({
      action: 'export',
      resourceType: v.recordType,
      resourceId: v.recordId,
      patientIds: [v.patientId],
      detail: { claim: what, visit: v.facts.visitKey },
    });
  }

  private build(v: Claimable): BuiltClaim {
    return buildClaim(v.facts, v.facts.facility.code ? this.credentials.signingKey(v.facts.facility.code) : undefined);
  }

  private async submission(visitKey: string): Promise<Row | undefined> {
    const sys = this.store.system('insurance claim status', 'formats');
    const r = await sys.sql.query<Row>(
      'SELECT visit_key, encounter_id, status, attempts, transaction_code, received_at, result_code, last_error, updated_at, check_in_xml, envelope_xml FROM claim_submission WHERE visit_key = $1',
      [visitKey],
    );
    return r.rows[0];
  }

  async view(ctx: AccessContext, id: string, kind: ClaimKind = 'visit'): Promise<ClaimView> {
    const v = await this.visit(ctx, id, kind);
    const c = this.build(v);
    const sub = await this.submission(v.facts.visitKey);
    await this.record(ctx, v, 'check');
    return {
      visitKey: v.facts.visitKey,
      facilityCode: v.facts.facility.code,
      patientName: v.facts.patient.name,
      ready: c.problems.length === 0,
      tables: (['XML0', 'XML1', 'XML2', 'XML3', 'XML13', 'XML14'] as const).filter((k) => c.rows[k].length > 0),
      problems: c.problems,
      ...(sub ? { submission: submissionView(sub) } : {}),
    };
  }

  /** The signed document: as queued (what was sent) when it was, else freshly built. */
  async xml(ctx: AccessContext, id: string, doc: 'envelope' | 'checkin', kind: ClaimKind = 'visit'): Promise<string> {
    const v = await this.visit(ctx, id, kind);
    const sub = await this.submission(v.facts.visitKey);
    let out = doc === 'envelope' ? sub?.envelope_xml : sub?.check_in_xml;
    if (!out) {
      const c = this.build(v);
      if (!c.signed) throw new ClaimProblems(c);
      out = doc === 'envelope' ? c.signed.envelope : c.signed.checkIn;
    }
    await this.record(ctx, v, `download ${doc}`);
    return out;
  }

  /** Queues the visit for the gateway (signed now); a second request for the same visit is a 409 naming its state. */
  async submit(ctx: AccessContext, id: string, kind: ClaimKind = 'visit'): Promise<SubmissionView> {
    const v = await this.visit(ctx, id, kind);
    const c = this.build(v);
    if (!c.signed) throw new ClaimProblems(c);
    const sys = this.store.system(`insurance claim queued by ${this.who(ctx)}`, 'formats');
    const inserted = await sys.sql.query<Row>(
      `INSERT INTO claim_submission (visit_key, facility_code, organization_id, encounter_id, record_type, patient_id, status, check_in_xml, envelope_xml, requested_by)
       VALUES ($1, $2, $3, $4, $5, $6, 'queued', $7, $8, $9) ON CONFLICT (visit_key) DO NOTHING
       RETURNING visit_key, encounter_id, status, attempts, transaction_code, received_at, result_code, last_error, updated_at`,
      [c.visitKey, c.facilityCode, v.organizationId, v.recordId, v.recordType, v.patientId, c.signed.checkIn, c.signed.envelope, this.who(ctx)],
    );
    await this.record(ctx, v, 'submit');
    if (!inserted.rows[0]) {
      const sub = (await this.submission(c.visitKey))!;
      throw conflict(
        `Lần khám đã được đưa vào hàng gửi (${sub.status}${sub.transaction_code ? `, mã giao dịch ${sub.transaction_code}` : ''}) — already queued, never sent twice`,
      );
    }
    return submissionView(inserted.rows[0]);
  }

  /** Refuses unless `code` is the facility code of the actor's own facility. */
  async assertOwnFacilityCode(ctx: AccessContext, code: string): Promise<void> {
    const orgId = ctx.actor.organizationId;
    if (!orgId) throw new AccessDenied('Tài khoản chưa gắn với cơ sở y tế (your account has no facility)');
    const org = await this.store.system(`facility code for ${this.who(ctx)}`, 'formats').read<Organization>('Organization', orgId);
    if (idValue(org.identifier, FACILITY_CODE_SYSTEM) !== code) throw new AccessDenied('Không phải đơn thuốc của cơ sở bạn (not your facility’s prescription)');
  }

  async list(ctx: AccessContext, status?: ClaimStatus): Promise<ClaimListItem[]> {
    const orgId = ctx.actor.organizationId;
    if (!orgId) throw new AccessDenied('Tài khoản chưa gắn với cơ sở y tế (your account has no facility)');
    const sys = this.store.system(`insurance claim list for ${this.who(ctx)} (${orgId})`, 'formats');
    const r = await sys.sql.query<Row>(
      `SELECT visit_key, encounter_id, status, attempts, transaction_code, received_at, result_code, last_error, updated_at
       FROM claim_submission WHERE organization_id = $1 AND ($2::text IS NULL OR status = $2) ORDER BY created_at DESC LIMIT 500`,
      [orgId, status ?? null],
    );
    return r.rows.map((x) => ({ visitKey: x.visit_key, encounterId: x.encounter_id, ...submissionView(x) }));
  }
}
