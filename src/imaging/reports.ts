/**
 * The reading workflow at the hub: the worklist (studies asked of my facility with no signed
 * report: urgency, waiting time, modality, requesting facility), the radiologist's report as a
 * FHIR DiagnosticReport (findings, impression, ICD-10 codes), and its signature.
 *
 * Rules (the consult conclusion's, src/consult/signing.ts): the signature is Ed25519 over the RFC
 * 8785 canonical content of the report (without meta and status), kept in a Provenance pointing at
 * the exact version signed; a signed report never changes (a change rule answers 409, here and
 * through plain FHIR). Signing completes the reading request and notifies the requester (in-app
 * notification in the same transaction, then a live event).
 */
import type { Composition, DiagnosticReport, ImagingStudy, Organization, Patient, Provenance, ServiceRequest } from '@medplum/fhirtypes';
import type { AccessContext } from '../auth/actor.ts';
import type { ServerSecret } from '../auth/secret.ts';
import type { EventBus } from '../events/bus.ts';
import { addNotification } from '../events/outbox.ts';
import type { FhirStore } from '../fhir/store.ts';
import type { Repository } from '../fhir/repository.ts';
import { businessRule, conflict } from '../fhir/outcome.ts';
import { signDocument, signingKeyFor, verifySignatures, type SignatureCheck } from '../consult/signing.ts';
import type { ReportInput, WorklistItem } from './contract.ts';
import { ICD10_SYSTEM, IMAGING_CATEGORY, isSignedReport, RAD_CATEGORY, refId, REPORT_SIGNATURE_TYPE, REQUESTING_ORG_EXT, SIGNED_REPORT_TAG } from './model.ts';

const URGENCY_RANK: Record<string, number> = { stat: 0, asap: 1, urgent: 2, routine: 3 };

export function patientName(p: Patient | undefined): string | undefined {
  const n = p?.name?.[0];
  return n ? [n.family, ...(n.given ?? [])].filter(Boolean).join(' ') : undefined;
}

/** The newest report of a study (draft or signed). */
export async function reportOf(tx: Repository, studyId: string, patientId: string): Promise<DiagnosticReport | undefined> {
  const list = await tx.search<DiagnosticReport>('DiagnosticReport', {
    subject: `Patient/${patientId}`,
    category: `${RAD_CATEGORY.system}|${RAD_CATEGORY.code}`,
    _sort: '-_lastUpdated',
    _count: '200',
  });
  return list.find((r) => r.imagingStudy?.some((s) => s.reference === `ImagingStudy/${studyId}`));
}

export class ReportService {
  constructor(
    private readonly store: FhirStore,
    private readonly bus: EventBus,
    private readonly secret: ServerSecret,
  ) {}

  /** Studies asked of the caller's facility and not yet reported, most urgent then longest waiting first. */
  async worklist(ctx: AccessContext): Promise<WorklistItem[]> {
    const org = ctx.actor.organizationId;
    if (!org) return [];
    const repo = this.store.as(ctx, 'imaging.report');
    return repo.transaction(async (tx) => {
      const requests = await tx.search<ServiceRequest>('ServiceRequest', {
        category: `${IMAGING_CATEGORY.system}|${IMAGING_CATEGORY.code}`,
        performer: `Organization/${org}`,
        status: 'active',
        _count: '200',
      });
      const out: WorklistItem[] = [];
      const orgNames = new Map<string, string | undefined>();
      for (const r of requests) {
        const study = (await tx.search<ImagingStudy>('ImagingStudy', { basedon: `ServiceRequest/${r.id}`, _count: '1' }))[0];
        if (!study) continue;
        const report = await reportOf(tx, study.id!, refId(study.subject, 'Patient')!);
        if (isSignedReport(report)) continue;
        const patient = await tx.tryRead<Patient>('Patient', refId(r.subject, 'Patient')!);
        const fromOrg = refId(r.extension?.find((e) => e.url === REQUESTING_ORG_EXT)?.valueReference, 'Organization');
        if (fromOrg && !orgNames.has(fromOrg)) orgNames.set(fromOrg, (await tx.tryRead<Organization>('Organization', fromOrg))?.name);
        out.push({
          studyId: study.id!,
          requestId: r.id!,
          patientName: patientName(patient),
          urgency: (r.priority ?? 'routine') as WorklistItem['urgency'],
          requestedAt: r.authoredOn,
          waitingMinutes: r.authoredOn ? Math.max(0, Math.round((Date.now() - Date.parse(r.authoredOn)) / 60000)) : 0,
          modality: study.modality?.map((m) => m.code).join(', ') ?? '',
          requestingFacility: fromOrg ? orgNames.get(fromOrg) : undefined,
          question: r.note?.[0]?.text,
          instances: study.numberOfInstances ?? 0,
          reportStatus: report ? 'draft' : 'none',
        });
      }
      await tx.record({ action: 'imaging.worklist', resourceType: 'Organization', resourceId: org, detail: { items: out.length } });
      return out.sort((a, b) => URGENCY_RANK[a.urgency] - URGENCY_RANK[b.urgency] || b.waitingMinutes - a.waitingMinutes);
    });
  }

  /** Writes or replaces the draft report of a study (refused once signed). */
  async draft(ctx: AccessContext, studyId: string, input: ReportInput): Promise<DiagnosticReport> {
    return this.store.as(ctx, 'imaging.report').transaction(async (tx) => {
      const study = await tx.read<ImagingStudy>('ImagingStudy', studyId);
      const existing = await reportOf(tx, studyId, refId(study.subject, 'Patient')!);
      if (isSignedReport(existing)) throw conflict('Kết quả đã ký không thể sửa (a signed report cannot be changed)');
      const me = ctx.actor.practitionerId;
      const body: DiagnosticReport = {
        resourceType: 'DiagnosticReport',
        status: 'preliminary',
        category: [{ coding: [RAD_CATEGORY] }],
        code: { coding: [{ system: 'http://loinc.org', code: '18748-4', display: 'Diagnostic imaging study' }], text: 'Kết quả chẩn đoán hình ảnh' },
        subject: study.subject,
        ...(study.basedOn ? { basedOn: study.basedOn.map((b) => ({ reference: b.reference })) } : {}),
        imagingStudy: [{ reference: `ImagingStudy/${studyId}` }],
        issued: new Date().toISOString(),
        ...(me ? { resultsInterpreter: [{ reference: `Practitioner/${me}` }] } : {}),
        ...(ctx.actor.organizationId ? { performer: [{ reference: `Organization/${ctx.actor.organizationId}` }] } : {}),
        // Findings go in the narrative-free `text` of a presentedForm-free report: FHIR R4 has `conclusion` for the impression.
        extension: [{ url: 'https://cauyte.vn/fhir/StructureDefinition/imaging-findings', valueString: input.findings }],
        conclusion: input.impression,
        conclusionCode: input.icd10.map((c) => ({ coding: [{ system: ICD10_SYSTEM, code: c.code, ...(c.display ? { display: c.display } : {}) }] })),
      };
      const saved = existing ? await tx.update<DiagnosticReport>({ ...body, id: existing.id }) : await tx.create<DiagnosticReport>(body);
      await tx.record({
        action: 'imaging.report.draft',
        resourceType: 'DiagnosticReport',
        resourceId: saved.id,
        patientIds: [refId(study.subject, 'Patient')!],
      });
      return saved;
    });
  }

  /** Signs the study's draft report: final, immutable, the request completed, the requester told. */
  async sign(ctx: AccessContext, studyId: string): Promise<{ reportId: string; signedAt: string }> {
    const a = ctx.actor;
    if (!a.accountId || !a.practitionerId) throw businessRule('Chỉ bác sĩ có hồ sơ hành nghề mới ký được (only a practitioner can sign)');
    const out = await this.store.as(ctx, 'imaging.report').transaction(async (tx) => {
      const study = await tx.read<ImagingStudy>('ImagingStudy', studyId);
      const patientId = refId(study.subject, 'Patient')!;
      const doc = await reportOf(tx, studyId, patientId);
      if (!doc) throw businessRule('Chưa có kết quả để ký (no report to sign yet)');
      if (isSignedReport(doc)) throw conflict('Kết quả đã được ký (already signed)');
      const now = new Date().toISOString();
      const final: DiagnosticReport = {
        ...doc,
        status: 'final',
        issued: now,
        resultsInterpreter: [{ reference: `Practitioner/${a.practitionerId}` }],
        meta: { ...doc.meta, tag: [...(doc.meta?.tag ?? []), SIGNED_REPORT_TAG] },
      };
      const key = await signingKeyFor(tx.sql, this.secret, a.accountId!, a.practitionerId);
      const signed = await tx.update<DiagnosticReport>(final, { ifMatch: `W/"${doc.meta?.versionId}"` });
      const signature = signDocument(signed as unknown as Composition, key.privateKey);
      await tx.create<Provenance>({
        resourceType: 'Provenance',
        target: [
          { reference: `DiagnosticReport/${doc.id}/_history/${signed.meta?.versionId}` },
          { reference: `ImagingStudy/${studyId}` },
          { reference: `Patient/${patientId}` },
        ],
        recorded: now,
        activity: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-DataOperation', code: 'UPDATE' }], text: 'Ký kết quả chẩn đoán hình ảnh' },
        agent: [
          {
            type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/provenance-participant-type', code: 'verifier', display: 'Người đọc phim ký' }] },
            who: { reference: `Practitioner/${a.practitionerId}` },
            onBehalfOf: { identifier: { system: 'https://fhir.cauyte.vn/sid/account', value: a.accountId } },
          },
        ],
        signature: [
          {
            type: [REPORT_SIGNATURE_TYPE],
            when: now,
            who: { reference: `Practitioner/${a.practitionerId}` },
            targetFormat: 'application/json',
            sigFormat: 'application/x-ed25519',
            data: signature,
          },
        ],
      });
      let requesterOrg: string | undefined;
      const requestId = refId(study.basedOn?.[0], 'ServiceRequest');
      if (requestId) {
        const req = await tx.read<ServiceRequest>('ServiceRequest', requestId);
        await tx.update<ServiceRequest>({ ...req, status: 'completed' });
        requesterOrg = refId(req.extension?.find((e) => e.url === REQUESTING_ORG_EXT)?.valueReference, 'Organization');
        const requester = refId(req.requester, 'Practitioner');
        const title = 'Đã có kết quả đọc phim';
        if (requesterOrg) await addNotification(tx.sql, { organizationId: requesterOrg }, 'imaging', title, `/imaging/${studyId}`);
        else if (requester) await addNotification(tx.sql, { practitionerId: requester }, 'imaging', title, `/imaging/${studyId}`);
      }
      await tx.record({ action: 'imaging.report.sign', resourceType: 'DiagnosticReport', resourceId: doc.id, patientIds: [patientId] });
      return { reportId: doc.id!, signedAt: now, requesterOrg };
    });
    if (out.requesterOrg)
      await this.bus.publish({ kind: 'imaging.report', to: { organizationIds: [out.requesterOrg] }, data: { studyId, reportId: out.reportId } });
    return { reportId: out.reportId, signedAt: out.signedAt };
  }

  /** Checks the signature(s) of a study's signed report against the version signed. */
  async verify(ctx: AccessContext, studyId: string): Promise<{ valid: boolean; checks: SignatureCheck[] }> {
    return this.store.as(ctx, 'imaging.view').transaction(async (tx) => {
      const study = await tx.read<ImagingStudy>('ImagingStudy', studyId);
      const patientId = refId(study.subject, 'Patient')!;
      const doc = await reportOf(tx, studyId, patientId);
      if (!doc || !isSignedReport(doc)) return { valid: false, checks: [] };
      const target = `DiagnosticReport/${doc.id}/_history/${doc.meta?.versionId}`;
      const provs = (await tx.search<Provenance>('Provenance', { patient: `Patient/${patientId}`, _count: '200' })).filter((p) =>
        p.target.some((t) => t.reference === target),
      );
      const checks = await verifySignatures(tx.sql, doc as unknown as Composition, provs);
      await tx.record({ action: 'imaging.report.verify', resourceType: 'DiagnosticReport', resourceId: doc.id, patientIds: [patientId] });
      return { valid: checks.length > 0 && checks.every((c) => c.valid), checks };
    });
  }
}
