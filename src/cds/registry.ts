/**
 * The registry of AI/CDS services: one row per CDS Hooks service (domain table `cds_service`),
 * with its approval (proposed → approved → suspended / withdrawn, who and when, the validation
 * study as a DocumentReference), the hooks it may be called on and the data it may receive, and
 * a FHIR Device that stands for it in Provenance. Monitoring figures are computed from the calls
 * and cards the client recorded (cds_call, cds_card).
 *
 * Why a domain table and a Device, not Device alone: approval is a workflow with rules (who may
 * change it, the reason, the evidence) read on every hook call, and the figures are aggregates
 * over calls — a table keeps both exact and cheap; the Device is the service's identity in FHIR
 * (Provenance.agent.who), written once and kept in step with the name and version.
 *
 * Rules: every read of a service's status goes to the table (no cache), so a suspension takes
 * effect on the next call. Changes go through `cds.manage` and are audited.
 */
import { randomUUID } from 'node:crypto';
import type { Device, DocumentReference } from '@medplum/fhirtypes';
import type { AccessContext } from '../auth/actor.ts';
import type { DomainSql } from '../db/domain-sql.ts';
import type { FhirStore } from '../fhir/store.ts';
import type { Repository } from '../fhir/repository.ts';
import { notFound } from '../fhir/outcome.ts';
import { InputError } from '../http/input.ts';
import type { Monitoring, RegisterRequest, ServiceStatus, ServiceView } from './contract.ts';

export const CDS_DEVICE_SYSTEM = 'https://fhir.cauyte.vn/sid/cds-service';

export interface ServiceRow {
  id: string;
  base_url: string;
  service_id: string;
  hook: string;
  name: string;
  version: string;
  vendor: string;
  intended_use: string;
  risk_class: string;
  status: ServiceStatus;
  status_reason: string | null;
  status_by: string | null;
  status_at: Date | string | null;
  approved_by: string | null;
  approved_at: Date | string | null;
  evidence_ref: string | null;
  allowed_hooks: string[];
  data_scopes: string[];
  prefetch: Record<string, string>;
  device_id: string;
}

/** Which status may follow which: a withdrawn service never comes back (register it anew). */
const NEXT: Record<ServiceStatus, ServiceStatus[]> = {
  proposed: ['approved', 'withdrawn'],
  approved: ['suspended', 'withdrawn'],
  suspended: ['approved', 'withdrawn'],
  withdrawn: [],
};

const iso = (d: Date | string | null | undefined) => (d ? new Date(d).toISOString() : undefined);
const who = (ctx: AccessContext) => ctx.actor.username ?? ctx.actor.accountId ?? '?';

export class Registry {
  constructor(private readonly store: FhirStore) {}

  private get sql(): DomainSql {
    return this.store.system('cds registry: service status', 'cds').sql;
  }

  /** The approved services for a hook, read now (a suspension a moment ago is seen). */
  async callable(hook: string): Promise<ServiceRow[]> {
    return (
      await this.sql.query<ServiceRow>("SELECT * FROM cds_service WHERE status = 'approved' AND hook = $1 AND $1 = ANY(allowed_hooks) ORDER BY id", [hook])
    ).rows;
  }

  /** Still approved, this instant (checked again just before data leaves). */
  async stillApproved(id: string): Promise<boolean> {
    return !!(await this.sql.query("SELECT 1 FROM cds_service WHERE id = $1 AND status = 'approved'", [id])).rows[0];
  }

  async row(id: string, sql: DomainSql = this.sql): Promise<ServiceRow> {
    const row = (await sql.query<ServiceRow>('SELECT * FROM cds_service WHERE id = $1', [id])).rows[0];
    if (!row) throw notFound(`Không có dịch vụ ${id} trong danh mục (no such service)`);
    return row;
  }

  async list(ctx: AccessContext): Promise<ServiceView[]> {
    const repo = this.store.as(ctx, 'cds.manage');
    const rows = (await repo.sql.query<ServiceRow>('SELECT * FROM cds_service ORDER BY created_at, id')).rows;
    const out: ServiceView[] = [];
    for (const r of rows) out.push(await this.view(repo, r));
    return out;
  }

  async one(ctx: AccessContext, id: string): Promise<ServiceView> {
    const repo = this.store.as(ctx, 'cds.manage');
    return this.view(repo, await this.row(id, repo.sql));
  }

  /** A new service, proposed: its Device and (when given) its validation study. */
  async register(ctx: AccessContext, input: RegisterRequest, prefetch: Record<string, string>, hook: string): Promise<ServiceView> {
    if (!input.allowedHooks.includes(hook as never)) throw new InputError(`allowedHooks must include the service's hook (${hook})`);
    const id = `${input.serviceId.replace(/[^A-Za-z0-9-]/g, '-').slice(0, 40)}-${randomUUID().slice(0, 8)}`;
    return this.store.as(ctx, 'cds.manage').transaction(async (tx) => {
      const dup = await tx.sql.query('SELECT id FROM cds_service WHERE base_url = $1 AND service_id = $2', [input.baseUrl, input.serviceId]);
      if (dup.rows[0]) throw new InputError('Dịch vụ này đã có trong danh mục (already registered)');
      const device = await tx.create<Device>(deviceFor(id, input));
      const evidence = input.evidence ? await tx.create<DocumentReference>(studyDocument(input.name, input.evidence)) : undefined;
      await tx.sql.query(
        `INSERT INTO cds_service (id, base_url, service_id, hook, name, version, vendor, intended_use, risk_class, evidence_ref,
           allowed_hooks, data_scopes, prefetch, device_id, created_by)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13::jsonb, $14, $15)`,
        [
          id,
          input.baseUrl,
          input.serviceId,
          hook,
          input.name,
          input.version,
          input.vendor,
          input.intendedUse,
          input.riskClass,
          evidence ? `DocumentReference/${evidence.id}` : null,
          input.allowedHooks,
          input.dataScopes,
          JSON.stringify(prefetch),
          device.id,
          who(ctx),
        ],
      );
      await tx.record({ action: 'cds.register', resourceType: 'Device', resourceId: device.id, detail: { service: id, name: input.name, hook } });
      return this.view(tx, await this.row(id, tx.sql));
    });
  }

  /** Approve, suspend, withdraw (with a reason; approval needs the validation study). Takes effect on the next call. */
  async setStatus(ctx: AccessContext, id: string, status: ServiceStatus, reason: string, evidence?: { title: string; url: string }): Promise<ServiceView> {
    return this.store.as(ctx, 'cds.manage').transaction(async (tx) => {
      const row = await this.row(id, tx.sql);
      if (!NEXT[row.status].includes(status))
        throw new InputError(`Không thể chuyển từ "${row.status}" sang "${status}" (a ${row.status} service cannot become ${status})`);
      let evidenceRef = row.evidence_ref;
      if (evidence) evidenceRef = `DocumentReference/${(await tx.create<DocumentReference>(studyDocument(row.name, evidence))).id}`;
      if (status === 'approved' && !evidenceRef)
        throw new InputError('Cần tài liệu nghiên cứu thẩm định trước khi phê duyệt (approval needs the validation study)');
      await tx.sql.query(
        `UPDATE cds_service SET status = $2, status_reason = $3, status_by = $4, status_at = now(), evidence_ref = $5,
           approved_by = CASE WHEN $2 = 'approved' THEN $4 ELSE approved_by END,
           approved_at = CASE WHEN $2 = 'approved' THEN now() ELSE approved_at END
         WHERE id = $1`,
        [id, status, reason, who(ctx), evidenceRef],
      );
      await tx.update<Device>({ ...(await tx.read<Device>('Device', row.device_id)), status: status === 'approved' ? 'active' : 'inactive' });
      await tx.record({
        action: `cds.${status}`,
        resourceType: 'Device',
        resourceId: row.device_id,
        reason,
        detail: { service: id, from: row.status, to: status },
      });
      return this.view(tx, await this.row(id, tx.sql));
    });
  }

  async setScopes(ctx: AccessContext, id: string, allowedHooks: string[], dataScopes: string[]): Promise<ServiceView> {
    return this.store.as(ctx, 'cds.manage').transaction(async (tx) => {
      const row = await this.row(id, tx.sql);
      if (!allowedHooks.includes(row.hook)) throw new InputError(`allowedHooks must include the service's hook (${row.hook})`);
      await tx.sql.query('UPDATE cds_service SET allowed_hooks = $2, data_scopes = $3 WHERE id = $1', [id, allowedHooks, dataScopes]);
      await tx.record({ action: 'cds.scopes', resourceType: 'Device', resourceId: row.device_id, detail: { service: id, allowedHooks, dataScopes } });
      return this.view(tx, await this.row(id, tx.sql));
    });
  }

  async monitoring(sql: DomainSql, id: string): Promise<Monitoring> {
    const calls = (
      await sql.query<{ calls: string; errors: string; med: number | null; p95: number | null; cards: string }>(
        `SELECT count(*) AS calls, count(*) FILTER (WHERE NOT ok) AS errors,
                percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) FILTER (WHERE ok) AS med,
                percentile_cont(0.95) WITHIN GROUP (ORDER BY ms) FILTER (WHERE ok) AS p95,
                coalesce(sum(cards), 0) AS cards
           FROM cds_call WHERE service = $1`,
        [id],
      )
    ).rows[0];
    const acted = (
      await sql.query<{ accepted: string; overridden: string }>(
        `SELECT count(*) FILTER (WHERE outcome = 'accepted') AS accepted, count(*) FILTER (WHERE outcome = 'overridden') AS overridden
           FROM cds_card WHERE service = $1`,
        [id],
      )
    ).rows[0];
    const reasons = (
      await sql.query<{ reason: string; count: string }>(
        `SELECT override_reason AS reason, count(*) AS count FROM cds_card WHERE service = $1 AND outcome = 'overridden'
          GROUP BY override_reason ORDER BY count(*) DESC, override_reason LIMIT 10`,
        [id],
      )
    ).rows;
    const lastErrors = (
      await sql.query<{ at: Date | string; error: string }>('SELECT at, error FROM cds_call WHERE service = $1 AND NOT ok ORDER BY at DESC LIMIT 5', [id])
    ).rows;
    const accepted = Number(acted?.accepted ?? 0);
    const overridden = Number(acted?.overridden ?? 0);
    return {
      calls: Number(calls?.calls ?? 0),
      errors: Number(calls?.errors ?? 0),
      ...(calls?.med != null ? { latencyMedianMs: Math.round(Number(calls.med)) } : {}),
      ...(calls?.p95 != null ? { latencyP95Ms: Math.round(Number(calls.p95)) } : {}),
      cards: Number(calls?.cards ?? 0),
      accepted,
      overridden,
      ...(accepted + overridden ? { acceptanceRate: accepted / (accepted + overridden) } : {}),
      overrideReasons: reasons.map((r) => ({ reason: r.reason, count: Number(r.count) })),
      lastErrors: lastErrors.map((e) => ({ at: iso(e.at)!, error: e.error })),
    };
  }

  private async view(repo: Repository, r: ServiceRow): Promise<ServiceView> {
    let evidence: ServiceView['evidence'];
    if (r.evidence_ref) {
      const doc = await repo.tryRead<DocumentReference>('DocumentReference', r.evidence_ref.split('/')[1]);
      evidence = { reference: r.evidence_ref, title: doc?.description ?? doc?.content?.[0]?.attachment?.title, url: doc?.content?.[0]?.attachment?.url };
    }
    return {
      id: r.id,
      baseUrl: r.base_url,
      serviceId: r.service_id,
      hook: r.hook,
      name: r.name,
      version: r.version,
      vendor: r.vendor,
      intendedUse: r.intended_use,
      riskClass: r.risk_class,
      status: r.status,
      ...(r.status_reason ? { statusReason: r.status_reason } : {}),
      ...(r.status_by ? { statusBy: r.status_by } : {}),
      ...(r.status_at ? { statusAt: iso(r.status_at) } : {}),
      ...(r.approved_by ? { approvedBy: r.approved_by } : {}),
      ...(r.approved_at ? { approvedAt: iso(r.approved_at) } : {}),
      ...(evidence ? { evidence } : {}),
      allowedHooks: r.allowed_hooks,
      dataScopes: r.data_scopes,
      prefetch: r.prefetch,
      device: `Device/${r.device_id}`,
      monitoring: await this.monitoring(repo.sql, r.id),
    };
  }
}

function deviceFor(id: string, input: RegisterRequest): Device {
  return {
    resourceType: 'Device',
    identifier: [{ system: CDS_DEVICE_SYSTEM, value: id }],
    status: 'inactive',
    manufacturer: input.vendor,
    deviceName: [{ name: input.name, type: 'user-friendly-name' }],
    type: { text: 'Dịch vụ hỗ trợ quyết định lâm sàng (CDS / AI software)' },
    version: [{ value: input.version }],
    note: [{ text: input.intendedUse }],
  };
}

function studyDocument(service: string, evidence: { title: string; url: string }): DocumentReference {
  return {
    resourceType: 'DocumentReference',
    status: 'current',
    type: { text: 'Nghiên cứu thẩm định dịch vụ AI/CDS (validation study)' },
    description: evidence.title,
    date: new Date().toISOString(),
    content: [{ attachment: { url: evidence.url, title: evidence.title } }],
    context: { related: [{ display: service }] },
  };
}
