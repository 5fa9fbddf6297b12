/**
 * The personal health record (hồ sơ sức khỏe điện tử cá nhân): one person's compartment from every
 * facility, as a timeline, vital signs for charts, documents, and downloads — the FHIR bundle
 * (Patient/$everything, every page), a readable PDF, and one document of the record.
 *
 * Rules: read through the citizen's own repository (`record.own`): patient reach applies, so a
 * citizen reaches their own record and those of family members they manage (signed in themselves),
 * consent and audit apply; each view or download is one unit of work recorded once (`read` of the
 * health record, `export` as FHIR or PDF, `read` of a document).
 */
import type {
  AllergyIntolerance,
  Binary,
  Bundle,
  Composition,
  Condition,
  DocumentReference,
  Encounter,
  Immunization,
  MedicationRequest,
  MedicationStatement,
  Observation,
  Patient,
  Resource,
} from '@medplum/fhirtypes';
import type { AccessContext } from '../auth/actor.ts';
import { notFound } from '../fhir/outcome.ts';
import type { Repository } from '../fhir/repository.ts';
import type { FhirStore } from '../fhir/store.ts';
import { BHYT_SYSTEM, CCCD_SYSTEM } from '../terminology/identifiers.ts';
import type { HealthRecord, TimelineItem } from './contract.ts';
import { idOf, personName } from './model.ts';
import { newPdf } from './pdf.ts';

export type { HealthRecord, TimelineItem } from './contract.ts';

const ICD = 'http://hl7.org/fhir/sid/icd-10';
const coded = (c?: { text?: string; coding?: { code?: string; display?: string; system?: string }[] }) =>
  c?.text ?? c?.coding?.[0]?.display ?? c?.coding?.[0]?.code ?? '';
const qty = (q?: { value?: number; unit?: string }) => (q?.value !== undefined ? `${q.value} ${q.unit ?? ''}`.trim() : '');

/** Patient/$everything, every page, through the repository. */
async function allPages(tx: Repository, patientId: string): Promise<Resource[]> {
  const out: Resource[] = [];
  let query = new URLSearchParams({ _count: '1000' });
  for (let page = 0; page < 1000; page++) {
    const b = await tx.everything(patientId, query);
    for (const e of b.entry ?? []) out.push(e.resource as Resource);
    const next = b.link?.find((l) => l.relation === 'next')?.url;
    if (!next) break;
    query = new URL(next).searchParams;
  }
  return out;
}

export class HealthRecordService {
  constructor(private readonly store: FhirStore) {}

  private own(ctx: AccessContext): Repository {
    return this.store.as(ctx, 'record.own');
  }

  /** Every resource of the record, as one FHIR Bundle (data portability). */
  async everything(ctx: AccessContext, patientId: string): Promise<Bundle> {
    return this.own(ctx).transaction(async (tx) => {
      const all = await allPages(tx, patientId);
      await tx.record({
        action: 'export',
        resourceType: 'Patient',
        resourceId: patientId,
        patientIds: [patientId],
        detail: { format: 'fhir', resources: all.length },
      });
      return {
        resourceType: 'Bundle',
        type: 'collection',
        timestamp: new Date().toISOString(),
        total: all.length,
        entry: all.map((r) => ({ fullUrl: `${tx.fhirBase}/${r.resourceType}/${r.id}`, resource: r })),
      } as Bundle;
    });
  }

  /** The whole record shaped for reading, in one unit of work recorded as `action` (what was looked at, or exported). */
  private load(ctx: AccessContext, patientId: string, action: 'read' | 'export', detail: Record<string, unknown>): Promise<HealthRecord> {
    return this.own(ctx).transaction(async (tx) => {
      const patient = await tx.read<Patient>('Patient', patientId);
      const all = await allPages(tx, patientId);
      await tx.record({ action, resourceType: 'Patient', resourceId: patientId, patientIds: [patientId], detail: { ...detail, resources: all.length } });
      return buildRecord(patient, all);
    });
  }

  async view(ctx: AccessContext, patientId: string): Promise<HealthRecord> {
    return this.load(ctx, patientId, 'read', { view: 'health-record' });
  }

  async pdf(ctx: AccessContext, patientId: string): Promise<Buffer> {
    const record = await this.load(ctx, patientId, 'export', { format: 'pdf' });
    return recordPdf(record);
  }

  /** One document of the record (its DocumentReference reachable, its content a Binary). */
  async document(ctx: AccessContext, documentId: string): Promise<{ contentType: string; data: Buffer; title?: string }> {
    return this.own(ctx).transaction(async (tx) => {
      const doc = await tx.read<DocumentReference>('DocumentReference', documentId);
      const att = doc.content[0]?.attachment;
      const binaryId = idOf({ reference: att?.url }, 'Binary');
      if (!binaryId) throw notFound('Tài liệu không có nội dung (no content)');
      const binary = await tx.read<Binary>('Binary', binaryId);
      await tx.record({ action: 'read', resourceType: 'DocumentReference', resourceId: documentId, detail: { download: true } });
      return { contentType: binary.contentType, data: Buffer.from(binary.data ?? '', 'base64'), title: att?.title };
    });
  }
}

export function buildRecord(patient: Patient, all: Resource[]): HealthRecord {
  const byType = <T extends Resource>(t: T['resourceType']) => all.filter((r) => r.resourceType === t) as T[];
  const names = new Map<string, string>();
  for (const r of all) {
    if (r.resourceType === 'Organization' && r.name) names.set(`Organization/${r.id}`, r.name);
    if (r.resourceType === 'Practitioner') names.set(`Practitioner/${r.id}`, personName(r));
  }
  const timeline: TimelineItem[] = [];
  for (const e of byType<Encounter>('Encounter')) {
    timeline.push({
      date: e.period?.start ?? '',
      kind: 'encounter',
      title: coded(e.type?.[0]) || coded(e.serviceType) || 'Lần khám',
      detail: e.reasonCode?.map((c) => coded(c)).join('; '),
      by: e.serviceProvider ? (names.get(e.serviceProvider.reference ?? '') ?? e.serviceProvider.display) : undefined,
      ref: `Encounter/${e.id}`,
    });
  }
  const conditions = byType<Condition>('Condition').map((c) => {
    const code = c.code?.coding?.find((x) => x.system === ICD)?.code;
    const display = c.code?.coding?.[0]?.display ?? c.code?.text ?? code ?? '';
    timeline.push({
      date: c.recordedDate ?? c.onsetDateTime ?? '',
      kind: 'condition',
      title: code ? `${code} ${display}` : display,
      by: c.recorder ? (names.get(c.recorder.reference ?? '') ?? c.recorder.display) : undefined,
      ref: `Condition/${c.id}`,
    });
    return { code, display, since: c.onsetDateTime ?? c.recordedDate, status: c.clinicalStatus?.coding?.[0]?.code };
  });
  const medications = [
    ...byType<MedicationRequest>('MedicationRequest').map((m) => {
      timeline.push({
        date: m.authoredOn ?? '',
        kind: 'medication',
        title: coded(m.medicationCodeableConcept),
        detail: m.dosageInstruction?.[0]?.text,
        by: m.requester ? (names.get(m.requester.reference ?? '') ?? m.requester.display) : undefined,
        ref: `MedicationRequest/${m.id}`,
      });
      return {
        name: coded(m.medicationCodeableConcept),
        dosage: m.dosageInstruction?.[0]?.text,
        since: m.authoredOn,
        prescription: m.groupIdentifier?.value,
        status: m.status,
      };
    }),
    ...byType<MedicationStatement>('MedicationStatement').map((m) => ({
      name: coded(m.medicationCodeableConcept),
      dosage: m.dosage?.[0]?.text,
      since: m.effectiveDateTime ?? m.effectivePeriod?.start,
      prescription: undefined as string | undefined,
      status: m.status as string,
    })),
  ];
  const allergies = byType<AllergyIntolerance>('AllergyIntolerance').map((a) => {
    timeline.push({
      date: a.recordedDate ?? '',
      kind: 'allergy',
      title: `Dị ứng: ${coded(a.code)}`,
      detail: a.reaction?.[0]?.manifestation?.map((m) => coded(m)).join(', '),
      ref: `AllergyIntolerance/${a.id}`,
    });
    return { substance: coded(a.code), reaction: a.reaction?.[0]?.manifestation?.map((m) => coded(m)).join(', '), criticality: a.criticality };
  });
  const immunizations = byType<Immunization>('Immunization').map((i) => {
    timeline.push({
      date: i.occurrenceDateTime ?? '',
      kind: 'immunization',
      title: `Tiêm chủng: ${coded(i.vaccineCode)}`,
      by: i.performer?.[0]?.actor.display,
      ref: `Immunization/${i.id}`,
    });
    return { vaccine: coded(i.vaccineCode), date: i.occurrenceDateTime };
  });
  const vitals: HealthRecord['vitals'] = [];
  for (const o of byType<Observation>('Observation')) {
    const cat = o.category?.flatMap((c) => c.coding ?? []).map((c) => c.code) ?? [];
    const t = o.effectiveDateTime ?? o.effectivePeriod?.start ?? o.issued ?? '';
    const value = o.component?.length
      ? o.component.map((c) => qty(c.valueQuantity)).join(' / ')
      : qty(o.valueQuantity) || o.valueString || coded(o.valueCodeableConcept);
    if (cat.includes('vital-signs')) {
      const values = o.component?.length ? o.component.map((c) => c.valueQuantity?.value ?? NaN) : [o.valueQuantity?.value ?? NaN];
      if (values.every((v) => Number.isFinite(v)))
        vitals.push({
          code: o.code.coding?.[0]?.code ?? '',
          label: coded(o.code),
          t,
          values,
          unit: o.component?.[0]?.valueQuantity?.unit ?? o.valueQuantity?.unit ?? '',
        });
    } else if (cat.includes('laboratory')) {
      timeline.push({
        date: t,
        kind: 'lab',
        title: `${coded(o.code)}: ${value}`,
        detail: o.interpretation?.map((x) => coded(x)).join(', '),
        ref: `Observation/${o.id}`,
      });
    }
  }
  vitals.sort((a, b) => a.t.localeCompare(b.t));
  const documents: HealthRecord['documents'] = [];
  for (const c of byType<Composition>('Composition')) {
    if (c.type?.coding?.some((x) => x.code === '11506-3')) {
      documents.push({ id: c.id!, title: c.title, date: c.date, kind: 'visit-note' });
      timeline.push({
        date: c.date,
        kind: 'document',
        title: c.title,
        by: c.author?.[0] ? (names.get(c.author[0].reference ?? '') ?? c.author[0].display) : undefined,
        ref: `Composition/${c.id}`,
      });
    }
  }
  for (const code of new Set(medications.map((m) => m.prescription).filter((x): x is string => !!x))) {
    const first = byType<MedicationRequest>('MedicationRequest').find((m) => m.groupIdentifier?.value === code);
    documents.push({ id: code, title: `Đơn thuốc ${code}`, date: first?.authoredOn, kind: 'prescription', link: `/api/prescriptions/${code}.pdf` });
  }
  for (const d of byType<DocumentReference>('DocumentReference')) {
    // A video recording is served by its room (the file is not a Binary): link there.
    const own = d.content?.[0]?.attachment?.url;
    documents.push({
      id: d.id!,
      title: d.description ?? d.content?.[0]?.attachment?.title ?? coded(d.type) ?? 'Tài liệu',
      date: d.date,
      kind: 'document',
      link: own?.startsWith('/api/') ? own : `/api/documents/${d.id}`,
    });
    timeline.push({
      date: d.date ?? '',
      kind: 'document',
      title: d.description ?? d.content?.[0]?.attachment?.title ?? 'Tài liệu',
      ref: `DocumentReference/${d.id}`,
    });
  }
  documents.sort((a, b) => (b.date ?? '').localeCompare(a.date ?? ''));
  timeline.sort((a, b) => b.date.localeCompare(a.date));
  const addr = patient.address?.[0];
  return {
    patient: {
      id: patient.id!,
      name: personName(patient),
      birthDate: patient.birthDate,
      gender: patient.gender,
      cccd: patient.identifier?.find((i) => i.system === CCCD_SYSTEM)?.value,
      bhytCard: patient.identifier?.find((i) => i.system === BHYT_SYSTEM)?.value,
      address: addr?.text ?? [...(addr?.line ?? []), addr?.city, addr?.state].filter(Boolean).join(', '),
    },
    timeline: timeline.filter((t) => t.date),
    conditions,
    medications,
    allergies,
    immunizations,
    vitals,
    documents,
  };
}

const fmt = (iso?: string) =>
  iso ? new Intl.DateTimeFormat('vi-VN', { timeZone: 'Asia/Ho_Chi_Minh', day: '2-digit', month: '2-digit', year: 'numeric' }).format(new Date(iso)) : '';

/** A readable summary of the whole record (the FHIR bundle is the complete, machine-readable copy). */
export async function recordPdf(r: HealthRecord): Promise<Buffer> {
  const { doc, text, done } = newPdf({ title: `Hồ sơ sức khỏe — ${r.patient.name}`, author: 'Cầu Y Tế', subject: 'Hồ sơ sức khỏe điện tử cá nhân' });
  const width = doc.page.width - 72;
  const heading = (s: string) => {
    doc.moveDown(0.6).font('bold').fontSize(12);
    text(s, { width });
    doc.font('regular').fontSize(10);
  };
  doc.font('bold').fontSize(16);
  text('HỒ SƠ SỨC KHỎE ĐIỆN TỬ CÁ NHÂN', { align: 'center', width });
  doc.font('regular').fontSize(9);
  text(`Trích xuất ngày ${fmt(new Date().toISOString())} từ Cầu Y Tế`, { align: 'center', width });
  doc.moveDown(0.8).fontSize(10);
  text(`Họ tên: ${r.patient.name}`, { width });
  if (r.patient.birthDate) text(`Ngày sinh: ${r.patient.birthDate.split('-').reverse().join('/')}`, { width });
  if (r.patient.cccd) text(`Số CCCD: ${r.patient.cccd}`, { width });
  if (r.patient.bhytCard) text(`Mã thẻ BHYT: ${r.patient.bhytCard}`, { width });
  if (r.patient.address) text(`Địa chỉ: ${r.patient.address}`, { width });
  heading('Bệnh và vấn đề sức khỏe');
  if (!r.conditions.length) text('Chưa có.', { width });
  for (const c of r.conditions) text(`• ${c.code ? `${c.code} ` : ''}${c.display}${c.since ? ` (từ ${fmt(c.since)})` : ''}`, { width });
  heading('Thuốc');
  if (!r.medications.length) text('Chưa có.', { width });
  for (const m of r.medications) text(`• ${m.name}${m.dosage ? ` — ${m.dosage}` : ''}${m.since ? ` (${fmt(m.since)})` : ''}`, { width });
  heading('Dị ứng');
  if (!r.allergies.length) text('Chưa ghi nhận dị ứng.', { width });
  for (const a of r.allergies) text(`• ${a.substance}${a.reaction ? `: ${a.reaction}` : ''}`, { width });
  heading('Tiêm chủng');
  if (!r.immunizations.length) text('Chưa có.', { width });
  for (const i of r.immunizations) text(`• ${i.vaccine}${i.date ? ` — ${fmt(i.date)}` : ''}`, { width });
  heading('Dấu hiệu sinh tồn gần nhất');
  const latest = new Map<string, HealthRecord['vitals'][number]>();
  for (const v of r.vitals) latest.set(v.code, v);
  if (!latest.size) text('Chưa có.', { width });
  for (const v of latest.values()) text(`• ${v.label}: ${v.values.join('/')} ${v.unit} (${fmt(v.t)})`, { width });
  heading('Lịch sử khám và sự kiện');
  for (const t of r.timeline.slice(0, 200)) text(`${fmt(t.date)}  ${t.title}${t.detail ? ` — ${t.detail}` : ''}${t.by ? ` · ${t.by}` : ''}`, { width });
  if (r.timeline.length > 200) text(`… và ${r.timeline.length - 200} mục cũ hơn (xem bản FHIR đầy đủ).`, { width });
  doc.end();
  return done;
}
