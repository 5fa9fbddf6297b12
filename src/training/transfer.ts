/**
 * Technology-transfer packages (chuyển giao kỹ thuật): a hub transfers a technique to a facility
 * through four steps — training, supervised cases (a minimum count, each a real consult or visit
 * signed off by the hub), assessment, and the hub's sign-off — each with evidence and a status.
 * The hub's coordinator (training.manage, own hub) creates the package and marks steps; the hub's
 * teachers (training.teach, same hub) sign supervised cases off. Marking the facility independent
 * before enough signed-off supervised cases (or any other step still pending) is a 422.
 * The receiving facility's staff read their own packages.
 */
import { randomUUID } from 'node:crypto';
import type { AccessContext } from '../auth/actor.ts';
import { AccessDenied } from '../auth/access.ts';
import type { Repository } from '../fhir/repository.ts';
import type { FhirStore } from '../fhir/store.ts';
import { badRequest, businessRule, conflict, notFound } from '../fhir/outcome.ts';
import type { TransferView } from './contract.ts';
import { iso, num, orgNames } from './model.ts';
import { vietnamDay } from '../platform/vietnam-time.ts';

const STEPS = ['training', 'supervised', 'assessment', 'signoff'] as const;

interface TransferRow {
  id: string;
  hub_org: string;
  facility_org: string;
  technique: string;
  min_supervised: number;
  independent_since: string | null;
}

export const NOT_YET_INDEPENDENT = (done: number, min: number) =>
  `Chưa thể công nhận cơ sở tự thực hiện kỹ thuật: mới có ${done}/${min} ca thực hiện có giám sát được tuyến trên xác nhận.`;

export class TransferService {
  constructor(private readonly store: FhirStore) {}

  private async load(tx: Repository, id: string): Promise<TransferRow> {
    const r = (
      await tx.sql.query<TransferRow>(
        'SELECT id, hub_org, facility_org, technique, min_supervised, independent_since::text AS independent_since FROM training_transfer WHERE id = $1',
        [id],
      )
    ).rows[0];
    if (!r) throw notFound(`Không có gói chuyển giao ${id}`);
    return r;
  }

  private assertHub(ctx: AccessContext, t: TransferRow): void {
    if (ctx.actor.organizationId !== t.hub_org) throw new AccessDenied('Chỉ bệnh viện chuyển giao mới được làm việc này (only the transferring hub)');
  }

  async create(ctx: AccessContext, b: { facilityOrganizationId: string; technique: string; minSupervisedCases: number }): Promise<TransferView> {
    const hub = ctx.actor.organizationId;
    if (!hub) throw new AccessDenied('Tài khoản không gắn với cơ sở nào (no facility)');
    if (hub === b.facilityOrganizationId) throw badRequest('Cơ sở nhận chuyển giao phải khác bệnh viện chuyển giao');
    const tx0 = this.store.as(ctx, 'training.manage');
    const id = await tx0.transaction(async (tx) => {
      if (!(await tx.tryRead('Organization', b.facilityOrganizationId))) throw badRequest(`Không có cơ sở ${b.facilityOrganizationId}`);
      const tid = randomUUID();
      await tx.sql.query('INSERT INTO training_transfer (id, hub_org, facility_org, technique, min_supervised, created_by) VALUES ($1,$2,$3,$4,$5,$6)', [
        tid,
        hub,
        b.facilityOrganizationId,
        b.technique,
        b.minSupervisedCases,
        ctx.actor.accountId ?? 'system',
      ]);
      for (const s of STEPS) await tx.sql.query('INSERT INTO training_transfer_step (transfer_id, step) VALUES ($1, $2)', [tid, s]);
      await tx.record({ action: 'training.transfer', detail: { transfer: tid, facility: b.facilityOrganizationId } });
      return tid;
    });
    return this.view(tx0, id);
  }

  /** Marks a step done with its evidence (the hub's coordinator). The supervised-cases step follows the signed-off cases. */
  async markStep(
    ctx: AccessContext,
    id: string,
    step: 'training' | 'assessment' | 'signoff',
    evidence: { title: string; url?: string }[],
  ): Promise<TransferView> {
    const repo = this.store.as(ctx, 'training.manage');
    await repo.transaction(async (tx) => {
      const t = await this.load(tx, id);
      this.assertHub(ctx, t);
      if (step === 'signoff') await this.assertReady(tx, t);
      await tx.sql.query(
        "UPDATE training_transfer_step SET status = 'done', evidence = $3, done_at = now(), done_by = $4 WHERE transfer_id = $1 AND step = $2",
        [id, step, JSON.stringify(evidence), ctx.actor.accountId ?? 'system'],
      );
      await tx.record({ action: 'training.transfer-step', detail: { transfer: id, step } });
    });
    return this.view(repo, id);
  }

  /** Adds a supervised case (a real consult or visit the signer can see) and signs it off (the hub's teacher). */
  async superviseCase(ctx: AccessContext, id: string, ref: string, note: string): Promise<TransferView> {
    const repo = this.store.as(ctx, 'training.teach');
    await repo.transaction(async (tx) => {
      const t = await this.load(tx, id);
      this.assertHub(ctx, t);
      const [type, rid] = ref.split('/');
      // Read through the signer's reach: the case must exist and be theirs to see.
      const r = await tx.tryRead(type, rid);
      if (!r) throw badRequest(`Không có ${type === 'ServiceRequest' ? 'ca hội chẩn' : 'lượt khám'} ${rid}`);
      const ins = await tx.sql.query(
        'INSERT INTO training_supervised_case (transfer_id, ref, note, signed_off_by, signed_off_at) VALUES ($1,$2,$3,$4, now()) ON CONFLICT DO NOTHING RETURNING id',
        [id, ref, note, ctx.actor.accountId ?? 'system'],
      );
      if (!ins.rows.length) throw conflict('Ca này đã được ghi nhận (already recorded)');
      const done = await this.signedOff(tx, id);
      if (done >= t.min_supervised)
        await tx.sql.query(
          "UPDATE training_transfer_step SET status = 'done', done_at = now(), done_by = $2 WHERE transfer_id = $1 AND step = 'supervised' AND status = 'pending'",
          [id, ctx.actor.accountId ?? 'system'],
        );
      await tx.record({ action: 'training.supervised-case', detail: { transfer: id, ref } });
    });
    return this.view(repo, id);
  }

  private async signedOff(tx: Repository, id: string): Promise<number> {
    return num(
      (await tx.sql.query<{ n: string }>('SELECT count(*) AS n FROM training_supervised_case WHERE transfer_id = $1 AND signed_off_at IS NOT NULL', [id]))
        .rows[0].n,
    );
  }

  private async assertReady(tx: Repository, t: TransferRow): Promise<void> {
    const done = await this.signedOff(tx, t.id);
    if (done < t.min_supervised) throw businessRule(NOT_YET_INDEPENDENT(done, t.min_supervised));
    const pending = (
      await tx.sql.query<{ step: string }>(
        "SELECT step FROM training_transfer_step WHERE transfer_id = $1 AND status = 'pending' AND step IN ('training', 'assessment')",
        [t.id],
      )
    ).rows;
    if (pending.length)
      throw businessRule(
        `Chưa thể công nhận cơ sở tự thực hiện kỹ thuật: còn bước ${pending.map((p) => (p.step === 'training' ? 'đào tạo' : 'đánh giá')).join(', ')} chưa hoàn thành.`,
      );
  }

  /** The facility may perform the technique on its own from today: every step done, enough signed-off cases (422 otherwise). */
  async markIndependent(ctx: AccessContext, id: string): Promise<TransferView> {
    const repo = this.store.as(ctx, 'training.manage');
    await repo.transaction(async (tx) => {
      const t = await this.load(tx, id);
      this.assertHub(ctx, t);
      if (t.independent_since) throw conflict('Cơ sở đã được công nhận tự thực hiện (already independent)');
      await this.assertReady(tx, t);
      await tx.sql.query(
        "UPDATE training_transfer_step SET status = 'done', done_at = coalesce(done_at, now()), done_by = coalesce(done_by, $2) WHERE transfer_id = $1 AND step = 'signoff'",
        [id, ctx.actor.accountId ?? 'system'],
      );
      await tx.sql.query('UPDATE training_transfer SET independent_since = $2::date WHERE id = $1', [id, vietnamDay()]);
      await tx.record({ action: 'training.transfer-independent', detail: { transfer: id } });
    });
    return this.view(repo, id);
  }

  /** A package: to the hub and to the receiving facility. */
  async get(ctx: AccessContext, id: string): Promise<TransferView> {
    const repo = this.store.as(ctx, 'training.learn');
    const t = await this.load(repo, id);
    if (ctx.actor.organizationId !== t.hub_org && ctx.actor.organizationId !== t.facility_org)
      throw new AccessDenied('Gói chuyển giao này không thuộc cơ sở của bạn (not your facility’s package)');
    return this.view(repo, id);
  }

  async list(ctx: AccessContext): Promise<TransferView[]> {
    const repo = this.store.as(ctx, 'training.learn');
    const org = ctx.actor.organizationId ?? '-';
    const ids = (
      await repo.sql.query<{ id: string }>('SELECT id FROM training_transfer WHERE hub_org = $1 OR facility_org = $1 ORDER BY created_at DESC LIMIT 100', [org])
    ).rows;
    const out: TransferView[] = [];
    for (const r of ids) out.push(await this.view(repo, r.id));
    return out;
  }

  private async view(tx: Repository, id: string): Promise<TransferView> {
    const t = await this.load(tx, id);
    const steps = (
      await tx.sql.query<{
        step: TransferView['steps'][number]['step'];
        status: 'pending' | 'done';
        evidence: { title: string; url?: string }[];
        done_at: Date | null;
      }>(
        "SELECT step, status, evidence, done_at FROM training_transfer_step WHERE transfer_id = $1 ORDER BY array_position(ARRAY['training','supervised','assessment','signoff'], step)",
        [id],
      )
    ).rows;
    const cases = (
      await tx.sql.query<{ id: number; ref: string; note: string; signed_off_at: Date | null }>(
        'SELECT id, ref, note, signed_off_at FROM training_supervised_case WHERE transfer_id = $1 ORDER BY id',
        [id],
      )
    ).rows;
    const names = await orgNames(tx, [t.facility_org]);
    return {
      id: t.id,
      hubOrganizationId: t.hub_org,
      facilityOrganizationId: t.facility_org,
      facilityName: names.get(t.facility_org) ?? '',
      technique: t.technique,
      minSupervisedCases: t.min_supervised,
      signedOffCases: cases.filter((c) => c.signed_off_at).length,
      independentSince: t.independent_since ?? null,
      steps: steps.map((s) => ({ step: s.step, status: s.status, evidence: s.evidence, doneAt: iso(s.done_at) })),
      cases: cases.map((c) => ({ id: Number(c.id), ref: c.ref, note: c.note, signedOffAt: iso(c.signed_off_at) })),
    };
  }
}
