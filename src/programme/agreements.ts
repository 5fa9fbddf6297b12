/**
 * Inter-facility support agreements (the law requires a contract between the supporting and the
 * supported facility before remote consultation): one FHIR Contract per pair — authority = the
 * supporting facility, subject = the supported one, subType = the specialties, applies = the
 * dates, legallyBindingAttachment = the signed PDF — and the check the case-conference workflow
 * runs before a request goes out: with no agreement in force between the two facilities for the
 * specialty, the request is refused with a message, or (setting agreementRule = warn) allowed
 * with a warning recorded on the case and in the audit trail.
 *
 * Rules: a facility administrator records agreements their facility is party to; a system
 * administrator any (`programme.facilities`). The Contract belongs to this workflow: a plain FHIR
 * write is refused (rules in plugin.ts).
 */
import { randomUUID } from 'node:crypto';
import type { Contract } from '@medplum/fhirtypes';
import type { AccessContext } from '../auth/actor.ts';
import { AccessDenied } from '../auth/access.ts';
import type { FhirStore } from '../fhir/store.ts';
import type { Repository } from '../fhir/repository.ts';
import { badRequest, businessRule, notFound } from '../fhir/outcome.ts';
import { SPECIALTY_SYSTEM } from '../consult/model.ts';
import { facilityRow } from './network.ts';
import type { AgreementInput, AgreementView, ProgrammeSettings } from './contract.ts';
import { vietnamDay } from '../platform/vietnam-time.ts';

export const AGREEMENT_ID_SYSTEM = 'https://fhir.cauyte.vn/sid/support-agreement';
export const AGREEMENT_TYPE = {
  system: 'https://fhir.cauyte.vn/CodeSystem/programme',
  code: 'support-agreement',
  display: 'Hợp đồng hỗ trợ chuyên môn khám chữa bệnh từ xa',
};
const AUTHOR_SIGNATURE = { system: 'urn:iso-astm:E1762-95:2013', code: '1.2.840.10065.1.12.1.1', display: "Author's Signature" };

export function isAgreement(r: { resourceType: string }): boolean {
  return r.resourceType === 'Contract' && !!(r as Contract).type?.coding?.some((c) => c.system === AGREEMENT_TYPE.system && c.code === AGREEMENT_TYPE.code);
}

/** The Contract of an agreement (used by the use case and by the demo seed). */
export function agreementContract(
  a: { supportingId: string; supportingName: string; supportedId: string; supportedName: string; specialties: string[]; start: string; end?: string },
  document?: { contentType: string; data: string; title?: string },
): Contract {
  const when = new Date().toISOString();
  const party = (id: string, name: string) => ({
    type: { system: 'http://terminology.hl7.org/CodeSystem/contractsignertypecodes', code: 'AUTHN', display: 'Authenticated Party' },
    party: { reference: `Organization/${id}`, display: name },
    signature: [{ type: [AUTHOR_SIGNATURE], when, who: { reference: `Organization/${id}`, display: name } }],
  });
  return {
    resourceType: 'Contract',
    identifier: [{ system: AGREEMENT_ID_SYSTEM, value: randomUUID() }],
    status: 'executed',
    type: { coding: [AGREEMENT_TYPE] },
    subType: a.specialties.map((s) => ({ coding: [{ system: SPECIALTY_SYSTEM, code: s }] })),
    title: `Hợp đồng hỗ trợ chuyên môn: ${a.supportingName} – ${a.supportedName}`,
    issued: when,
    applies: { start: a.start, ...(a.end ? { end: a.end } : {}) },
    authority: [{ reference: `Organization/${a.supportingId}`, display: a.supportingName }],
    subject: [{ reference: `Organization/${a.supportedId}`, display: a.supportedName }],
    signer: [party(a.supportingId, a.supportingName), party(a.supportedId, a.supportedName)],
    ...(document ? { legallyBindingAttachment: { contentType: document.contentType, data: document.data, title: document.title ?? 'Hợp đồng đã ký' } } : {}),
  };
}

const idOf = (ref?: string) => ref?.replace(/^Organization\//, '') ?? '';

export function agreementView(c: Contract, today = vietnamDay()): AgreementView {
  const start = c.applies?.start?.slice(0, 10) ?? '';
  const end = c.applies?.end?.slice(0, 10);
  return {
    id: c.id!,
    supportingId: idOf(c.authority?.[0]?.reference),
    supportingName: c.authority?.[0]?.display ?? '',
    supportedId: idOf(c.subject?.[0]?.reference),
    supportedName: c.subject?.[0]?.display ?? '',
    specialties: (c.subType ?? []).map((s) => s.coding?.[0]?.code ?? '').filter(Boolean),
    start,
    ...(end ? { end } : {}),
    inForce: c.status === 'executed' && start <= today && (!end || today <= end),
    ...(c.legallyBindingAttachment ? { documentId: c.id } : {}),
  };
}

/** Agreements between two facilities (either direction) in force on `day` that cover `specialty`. */
export async function agreementsInForce(repo: Repository, a: string, b: string, specialty: string, day: string): Promise<Contract[]> {
  const out: Contract[] = [];
  for (const [sup, sub] of [
    [a, b],
    [b, a],
  ]) {
    const found = await repo.search<Contract>('Contract', {
      authority: `Organization/${sup}`,
      subject: `Organization/${sub}`,
      status: 'executed',
      _count: '50',
    });
    for (const c of found) {
      if (!isAgreement(c)) continue;
      const v = agreementView(c, day);
      if (v.inForce && v.specialties.includes(specialty)) out.push(c);
    }
  }
  return out;
}

export const NO_AGREEMENT_MESSAGE = (from: string, to: string, specialty: string) =>
  `Chưa có hợp đồng hỗ trợ chuyên môn còn hiệu lực giữa ${from} và ${to} cho chuyên khoa ${specialty}: không gửi được yêu cầu hội chẩn. Hãy đề nghị hai cơ sở ký hợp đồng, hoặc gửi đến cơ sở tuyến trên đã có hợp đồng. (No support agreement in force between these facilities for this specialty.)`;

export class AgreementService {
  constructor(private readonly store: FhirStore) {}

  private assertParty(ctx: AccessContext, input: { supportingId: string; supportedId: string }): void {
    const a = ctx.actor;
    if (a.role === 'system_admin') return;
    if (a.organizationId && (a.organizationId === input.supportingId || a.organizationId === input.supportedId)) return;
    throw new AccessDenied('Chỉ ghi nhận hợp đồng mà cơ sở mình là một bên (your facility must be a party)');
  }

  async create(ctx: AccessContext, input: AgreementInput): Promise<AgreementView> {
    this.assertParty(ctx, input);
    if (input.supportingId === input.supportedId) throw badRequest('Hai bên phải là hai cơ sở khác nhau (two different facilities)');
    if (input.end && input.end < input.start) throw badRequest('Ngày kết thúc trước ngày bắt đầu (end before start)');
    if (input.document && !Buffer.from(input.document.data, 'base64').subarray(0, 5).equals(Buffer.from('%PDF-')))
      throw badRequest('Tệp hợp đồng phải là PDF (the signed document must be a PDF)');
    return this.store.as(ctx, 'programme.facilities').transaction(async (tx) => {
      const sup = await facilityRow(tx.sql, input.supportingId);
      const sub = await facilityRow(tx.sql, input.supportedId);
      const c = await tx.create(agreementContract({ ...input, supportingName: sup.name, supportedName: sub.name }, input.document));
      await tx.record({ action: 'programme.agreement', resourceType: 'Contract', resourceId: c.id, detail: { supporting: sup.id, supported: sub.id } });
      return agreementView(c);
    });
  }

  async list(ctx: AccessContext, facilityId: string): Promise<AgreementView[]> {
    const repo = this.store.as(ctx, 'programme.view');
    const seen = new Map<string, AgreementView>();
    for (const param of ['authority', 'subject'])
      for (const c of await repo.search<Contract>('Contract', { [param]: `Organization/${facilityId}`, _count: '200' }))
        if (isAgreement(c)) seen.set(c.id!, agreementView(c));
    return [...seen.values()].sort((x, y) => y.start.localeCompare(x.start));
  }

  /** Ends an agreement today (status terminated; the Contract's history keeps it). */
  async terminate(ctx: AccessContext, id: string): Promise<AgreementView> {
    return this.store.as(ctx, 'programme.facilities').transaction(async (tx) => {
      const c = await tx.tryRead<Contract>('Contract', id);
      if (!c || !isAgreement(c)) throw notFound(`Không có hợp đồng ${id} (no such agreement)`);
      const v = agreementView(c);
      this.assertParty(ctx, v);
      if (c.status !== 'executed') throw businessRule('Hợp đồng đã chấm dứt (already terminated)');
      const saved = await tx.update<Contract>({ ...c, status: 'terminated', applies: { ...c.applies, end: vietnamDay() } });
      await tx.record({ action: 'programme.agreement-end', resourceType: 'Contract', resourceId: id });
      return agreementView(saved);
    });
  }

  /** The signed document (any staff member who may list agreements may read it: no patient data). */
  async document(ctx: AccessContext, id: string): Promise<{ contentType: string; data: Buffer; title: string }> {
    const c = await this.store.as(ctx, 'programme.view').tryRead<Contract>('Contract', id);
    const att = c && isAgreement(c) ? (c.legallyBindingAttachment as { contentType?: string; data?: string; title?: string } | undefined) : undefined;
    if (!att?.data) throw notFound('Hợp đồng không có tệp đính kèm (no signed document)');
    return { contentType: att.contentType ?? 'application/pdf', data: Buffer.from(att.data, 'base64'), title: att.title ?? 'hop-dong.pdf' };
  }

  // ---------------------------------------------------------------- settings

  async settings(): Promise<ProgrammeSettings> {
    const r = await this.store
      .system('programme settings', 'programme')
      .sql.query<{ value: string }>("SELECT value FROM programme_setting WHERE key = 'agreement_rule'");
    return { agreementRule: r.rows[0]?.value === 'warn' ? 'warn' : 'refuse' };
  }

  async setSettings(ctx: AccessContext, s: ProgrammeSettings): Promise<ProgrammeSettings> {
    if (ctx.actor.role !== 'system_admin') throw new AccessDenied('Chỉ quản trị hệ thống (system administrators only)');
    await this.store.as(ctx, 'programme.facilities').transaction(async (tx) => {
      await tx.sql.query("INSERT INTO programme_setting (key, value) VALUES ('agreement_rule', $1) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value", [
        s.agreementRule,
      ]);
      await tx.record({ action: 'programme.settings', detail: { agreementRule: s.agreementRule } });
    });
    return s;
  }
}
