/**
 * A patient's record as the EMR exchange document (spec.ts): gathered with Patient/$everything
 * through the CALLER's repository (so role, care relationship, consent and break-the-glass apply,
 * and the export is audited against the caller), mapped to the 11 groups, every value checked
 * against its field's type and length, and written as XML and as JSON with the same content.
 *
 * Rules: nothing is invented — a value the record does not hold stays empty; a value that does not
 * fit its field is listed as a problem, not cut. Placeholders (x_…) are listed in `ChuaXacDinh`.
 */
import type {
  Bundle,
  Condition,
  DiagnosticReport,
  Encounter,
  MedicationRequest,
  Observation,
  Patient,
  Practitioner,
  Procedure,
  Resource,
  ServiceRequest,
} from '@medplum/fhirtypes';
import type { Repository } from '../../fhir/repository.ts';
import { CCCD_SYSTEM } from '../../terminology/identifiers.ts';
import { ACTIVE_INGREDIENT_SYSTEM, idValue } from '../model.ts';
import { placeCodes } from '../places.ts';
import { vnDate, vnTimestamp } from '../xml130/facts.ts';
import { EMR_GROUPS, UNDEFINED_IN_SOURCES, type FieldSpec } from './spec.ts';

export type EmrRow = Record<string, string>;
export interface EmrDocument {
  /** Group name → rows (field name → value; empty values left out). */
  groups: Record<string, EmrRow[]>;
  undefinedInSources: string[];
  problems: { group: string; row: number; field: string; problem: string }[];
}

const text = (c?: { text?: string; coding?: { display?: string; code?: string }[] }) => c?.text ?? c?.coding?.[0]?.display ?? c?.coding?.[0]?.code;
const codeOf = (c: { coding?: { system?: string; code?: string }[] } | undefined, system: string) => c?.coding?.find((x) => x.system === system)?.code;
const ICD10 = 'http://hl7.org/fhir/sid/icd-10';
const LOINC = 'http://loinc.org';
const when = (v?: string) => (v ? vnTimestamp(v) : undefined);
const nameOf = (r?: { name?: { text?: string; family?: string; given?: string[] }[] }) =>
  r?.name?.[0]?.text ?? ([r?.name?.[0]?.family, ...(r?.name?.[0]?.given ?? [])].filter(Boolean).join(' ') || undefined);

/** Reads every page of $everything the caller may see. */
async function gather(repo: Repository, patientId: string): Promise<Resource[]> {
  const out: Resource[] = [];
  let query = new URLSearchParams();
  for (let page = 0; page < 100; page++) {
    const b: Bundle = await repo.everything(patientId, query);
    out.push(...(b.entry ?? []).map((e) => e.resource!).filter(Boolean));
    const next = b.link?.find((l) => l.relation === 'next')?.url;
    if (!next) break;
    query = new URL(next).searchParams;
  }
  return out;
}

function check(field: FieldSpec, value: string): string | undefined {
  if (value.length > field.max) return `dài ${value.length} > ${field.max}`;
  if (field.type === 'N' && !/^\d+$/.test(value)) return 'không phải số';
  if (field.type === 'D' && !/^\d{8}$/.test(value)) return 'không phải yyyyMMdd';
  if (field.type === 'T' && !/^\d{12}$/.test(value)) return 'không phải yyyyMMddHHmm';
  return undefined;
}

/** Builds the document from the resources (pure; exported for tests). */
export function buildEmr(resources: Resource[], patientId: string): EmrDocument {
  const of = <T extends Resource>(type: string) => resources.filter((r) => r.resourceType === type) as T[];
  const byRef = new Map(resources.map((r) => [`${r.resourceType}/${r.id}`, r]));
  const who = (ref?: { reference?: string; display?: string }) => ref?.display ?? nameOf(byRef.get(ref?.reference ?? '') as Practitioner | undefined);
  const patient = of<Patient>('Patient').find((p) => p.id === patientId);
  const groups: Record<string, EmrRow[]> = Object.fromEntries(EMR_GROUPS.map((g) => [g.name, []]));
  if (patient) {
    const places = placeCodes(patient.address?.[0]?.state, patient.address?.[0]?.city);
    groups.ThongTinBenhNhan.push({
      x_ma_benh_nhan: patient.id!,
      cccd_so: idValue(patient.identifier, CCCD_SYSTEM) ?? '',
      x_ho_ten: nameOf(patient) ?? '',
      x_ngay_sinh: patient.birthDate && /^\d{4}-\d{2}-\d{2}$/.test(patient.birthDate) ? vnDate(patient.birthDate) : '',
      x_gioi_tinh: patient.gender === 'male' ? '1' : patient.gender === 'female' ? '2' : patient.gender ? '3' : '',
      x_tinh_ma: places.provinceCode ?? '',
      x_xa_ma: places.communeCode ?? '',
      x_dia_chi: patient.address?.[0]?.text ?? [patient.address?.[0]?.line?.join(', '), patient.address?.[0]?.city].filter(Boolean).join(', '),
      x_dien_thoai: patient.telecom?.find((t) => t.system === 'phone')?.value ?? '',
    });
  }
  for (const e of of<Encounter>('Encounter'))
    groups.ThongTinVaoVien.push({
      x_ma_luot_kham: e.id!,
      x_ngay_vao: when(e.period?.start) ?? '',
      x_ngay_ra: when(e.period?.end) ?? '',
      x_hinh_thuc: e.class?.code === 'VR' ? 'từ xa' : (e.class?.display ?? e.class?.code ?? ''),
      x_ly_do: text(e.reasonCode?.[0]) ?? '',
    });
  for (const c of of<Condition>('Condition'))
    groups.ThongTinDieuTri.push({
      x_ma_benh: codeOf(c.code, ICD10) ?? '',
      x_ten_benh: text(c.code) ?? '',
      x_ngay_chan_doan: when(c.recordedDate ?? c.onsetDateTime) ?? '',
      x_trang_thai: c.clinicalStatus?.coding?.[0]?.code ?? '',
      chuky_hoten: who(c.recorder) ?? '',
    });
  for (const m of of<MedicationRequest>('MedicationRequest'))
    groups.YLenhThuocVatTu.push({
      mathuocvattu_byt: codeOf(m.medicationCodeableConcept, ACTIVE_INGREDIENT_SYSTEM) ?? '',
      x_ten_thuoc: text(m.medicationCodeableConcept) ?? m.medicationReference?.display ?? '',
      x_so_luong:
        m.dispenseRequest?.quantity?.value !== undefined && Number.isInteger(m.dispenseRequest.quantity.value) ? String(m.dispenseRequest.quantity.value) : '',
      x_don_vi: m.dispenseRequest?.quantity?.unit ?? '',
      x_cach_dung: m.dosageInstruction?.[0]?.text ?? '',
      x_ngay_y_lenh: when(m.authoredOn) ?? '',
      x_ma_don_thuoc: m.groupIdentifier?.value ?? '',
      chuky_hoten: who(m.requester) ?? '',
    });
  for (const s of of<ServiceRequest>('ServiceRequest')) {
    const row = {
      x_ma_dich_vu: s.code?.coding?.[0]?.code ?? '',
      x_ten_dich_vu: text(s.code) ?? '',
      x_ngay_chi_dinh: when(s.authoredOn) ?? '',
      x_trang_thai: s.status ?? '',
    };
    groups.PhieuChiDinh.push(row);
  }
  for (const r of of<DiagnosticReport>('DiagnosticReport')) {
    const imaging = r.category?.some((c) => c.coding?.some((x) => x.code === 'RAD' || x.code === 'imaging')) || !!r.imagingStudy?.length;
    if (imaging)
      groups.KetQuaChanDoanHinhAnh.push({
        x_ten: text(r.code) ?? '',
        x_ket_luan: r.conclusion ?? '',
        x_ngay_ket_qua: when(r.issued ?? r.effectiveDateTime) ?? '',
        chuky_hoten: who(r.resultsInterpreter?.[0]) ?? '',
      });
  }
  for (const o of of<Observation>('Observation')) {
    const value = o.valueQuantity?.value !== undefined ? String(o.valueQuantity.value) : (o.valueString ?? text(o.valueCodeableConcept) ?? '');
    const components = o.component?.map((c) => `${text(c.code)} ${c.valueQuantity?.value ?? ''}`).join('; ');
    groups.KetQuaXetNghiem.push({
      x_ma_chi_so: codeOf(o.code, LOINC) ?? '',
      x_ten_chi_so: text(o.code) ?? '',
      x_gia_tri: value || components || '',
      x_don_vi: o.valueQuantity?.unit ?? o.component?.[0]?.valueQuantity?.unit ?? '',
      x_ngay_kq: when(o.effectiveDateTime ?? o.issued) ?? '',
    });
  }
  for (const p of of<Procedure>('Procedure')) {
    const surgical = p.category?.coding?.some((c) => c.code === '387713003'); // SNOMED surgical procedure
    (surgical ? groups.PhieuPhauThuat : groups.PhieuThuThuat).push({
      x_ten: text(p.code) ?? '',
      x_ngay: when(p.performedDateTime ?? p.performedPeriod?.start) ?? '',
    });
  }
  // GiayChuyenVien, HoSoCapCuu: the platform keeps no transfer letters or emergency records yet; the groups stay empty.

  const problems: EmrDocument['problems'] = [];
  for (const g of EMR_GROUPS) {
    groups[g.name] = groups[g.name].map((row, i) => {
      const kept: EmrRow = {};
      for (const field of g.fields) {
        const v = (row[field.name] ?? '').trim();
        if (!v) {
          if (field.required) problems.push({ group: g.name, row: i + 1, field: field.name, problem: 'thiếu' });
          continue;
        }
        const bad = check(field, v);
        if (bad) problems.push({ group: g.name, row: i + 1, field: field.name, problem: bad });
        else kept[field.name] = v;
      }
      return kept;
    });
  }
  return { groups, undefinedInSources: UNDEFINED_IN_SOURCES, problems };
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** The XML form: root HoSoBenhAn, the 11 groups in order (empty ones as empty elements), then ChuaXacDinh. */
export function emrXml(doc: EmrDocument): string {
  const out = ['<?xml version="1.0" encoding="utf-8"?>', '<HoSoBenhAn>'];
  for (const g of EMR_GROUPS) {
    const rows = doc.groups[g.name];
    if (!rows.length) {
      out.push(`  <${g.name}/>`);
      continue;
    }
    out.push(`  <${g.name}>`);
    for (const row of rows) {
      out.push(`    <${g.row}>`);
      for (const field of g.fields) if (row[field.name] !== undefined) out.push(`      <${field.name}>${esc(row[field.name])}</${field.name}>`);
      out.push(`    </${g.row}>`);
    }
    out.push(`  </${g.name}>`);
  }
  out.push('  <ChuaXacDinh>');
  for (const u of doc.undefinedInSources) out.push(`    <Muc>${esc(u)}</Muc>`);
  out.push('  </ChuaXacDinh>', '</HoSoBenhAn>');
  return out.join('\n') + '\n';
}

/** The JSON form: the same content ({ HoSoBenhAn: { group: [rows] …, ChuaXacDinh: [...] } }). */
export function emrJson(doc: EmrDocument): { HoSoBenhAn: Record<string, unknown> } {
  return { HoSoBenhAn: { ...Object.fromEntries(EMR_GROUPS.map((g) => [g.name, doc.groups[g.name]])), ChuaXacDinh: doc.undefinedInSources } };
}

/** Exports a patient's record as the caller (their access rules apply; the read is audited against them). */
export async function exportEmr(repo: Repository, patientId: string): Promise<EmrDocument> {
  await repo.read('Patient', patientId); // a refusal (403, or 404) before anything else
  return buildEmr(await gather(repo, patientId), patientId);
}
