/**
 * One e-prescription as the national e-prescription system's clients send it
 * (docs/national-formats.md §3: field names as two independent client codebases use them [S12]),
 * read from the record: the prescription's items (MedicationRequests sharing the code), the
 * patient, the diagnosis, the visit note's advice and follow-up, the prescriber.
 *
 * Rules: reads through the repository given (the queue's system repository). [U] marks what
 * the public sources leave open: birth-date format and gender codes differ between clients
 * (we send yyyy-MM-dd and 1 male / 2 female / 3 other); no official signature scheme was found,
 * so `signature` is left empty; `ma_dinh_danh_y_te` (health ID) is not held by this platform.
 */
import type { Composition, Condition, MedicationRequest, Observation, Patient } from '@medplum/fhirtypes';
import { narrativeText } from '../../fhir/narrative.ts';
import type { Repository } from '../../fhir/repository.ts';
import { BHYT_SYSTEM, CCCD_SYSTEM } from '../../terminology/identifiers.ts';
import { idValue } from '../model.ts';
import { vietnamDay } from '../../platform/vietnam-time.ts';

const PRESCRIPTION_SYSTEM = 'https://fhir.cauyte.vn/sid/prescription-code';
const GENDER: Record<string, number> = { male: 1, female: 2, other: 3 };

export interface EPrescriptionPayload {
  loai_don_thuoc: string;
  ma_don_thuoc: string;
  ho_ten_benh_nhan: string;
  ngay_sinh_benh_nhan: string;
  ma_dinh_danh_y_te: string;
  ma_dinh_danh_cong_dan: string;
  can_nang: number | null;
  gioi_tinh: number | null;
  ma_so_the_bao_hiem_y_te: string;
  thong_tin_nguoi_giam_ho: string;
  dia_chi: string;
  chan_doan: { ma_chan_doan: string; ten_chan_doan: string; ket_luan: string }[];
  luu_y: string;
  hinh_thuc_dieu_tri: number;
  dot_dung_thuoc: number;
  thong_tin_don_thuoc: { ma_thuoc: string; biet_duoc: string; ten_thuoc: string; don_vi_tinh: string; so_luong: number; cach_dung: string }[];
  loi_dan: string;
  so_dien_thoai_nguoi_kham_benh: string;
  ngay_tai_kham: string;
  ngay_gio_ke_don: string;
  signature: string;
}

/** yyyy-MM-dd HH:mm:ss in Việt Nam time. */
export function vnDateTime(iso: string): string {
  return new Date(new Date(iso).getTime() + 7 * 3_600_000).toISOString().replace('T', ' ').slice(0, 19);
}

export async function eprescriptionPayload(repo: Repository, code: string, encounterId: string): Promise<EPrescriptionPayload> {
  const meds = (
    await repo.search<MedicationRequest>('MedicationRequest', new URLSearchParams({ encounter: `Encounter/${encounterId}`, _count: '100' }))
  ).filter((m) => m.groupIdentifier?.system === PRESCRIPTION_SYSTEM && m.groupIdentifier.value === code);
  if (!meds.length) throw new Error(`prescription ${code} has no items`);
  const patientId = meds[0].subject.reference!.split('/')[1];
  const patient = await repo.read<Patient>('Patient', patientId);
  const conditions = await repo.search<Condition>('Condition', new URLSearchParams({ encounter: `Encounter/${encounterId}` }));
  const notes = await repo.search<Composition>('Composition', new URLSearchParams({ encounter: `Encounter/${encounterId}` }));
  const obs = await repo.search<Observation>('Observation', new URLSearchParams({ encounter: `Encounter/${encounterId}` }));
  const advice = notes[0]?.section?.find((s) => s.title === 'Hướng dẫn và theo dõi')?.text;
  const adviceText = advice ? narrativeText(advice.div).trim() : '';
  const followDays = /Tái khám sau (\d+) ngày/.exec(adviceText)?.[1];
  const issued = meds[0].authoredOn!;
  const home = patient.address?.find((a) => a.use === 'home') ?? patient.address?.[0];
  return {
    loai_don_thuoc: code.slice(-1),
    ma_don_thuoc: code,
    ho_ten_benh_nhan: patient.name?.[0]?.text ?? [patient.name?.[0]?.family, ...(patient.name?.[0]?.given ?? [])].filter(Boolean).join(' '),
    ngay_sinh_benh_nhan: patient.birthDate ?? '',
    ma_dinh_danh_y_te: '',
    ma_dinh_danh_cong_dan: idValue(patient.identifier, CCCD_SYSTEM) ?? '',
    can_nang: obs.find((o) => o.code?.coding?.some((c) => c.code === '29463-7'))?.valueQuantity?.value ?? null,
    gioi_tinh: GENDER[patient.gender ?? ''] ?? null,
    ma_so_the_bao_hiem_y_te: idValue(patient.identifier, BHYT_SYSTEM) ?? '',
    thong_tin_nguoi_giam_ho: '',
    dia_chi: home ? [...(home.line ?? []), home.city, home.state].filter(Boolean).join(', ') : '',
    chan_doan: conditions.map((c) => ({
      ma_chan_doan: c.code?.coding?.[0]?.code ?? '',
      ten_chan_doan: c.code?.coding?.[0]?.display ?? c.code?.text ?? '',
      ket_luan: c.code?.text ?? '',
    })),
    luu_y: meds[0].note?.[0]?.text ?? '',
    hinh_thuc_dieu_tri: 1, // [U] 1 = ngoại trú (outpatient) in the clients' code; the code list was not found
    dot_dung_thuoc: 1,
    thong_tin_don_thuoc: meds.map((m) => ({
      ma_thuoc: m.medicationCodeableConcept?.coding?.[0]?.code ?? '',
      biet_duoc: m.medicationCodeableConcept?.text ?? '',
      ten_thuoc: m.medicationCodeableConcept?.text ?? '',
      don_vi_tinh: m.dispenseRequest?.quantity?.unit ?? '',
      so_luong: m.dispenseRequest?.quantity?.value ?? 0,
      cach_dung: m.dosageInstruction?.[0]?.text ?? '',
    })),
    loi_dan: adviceText,
    so_dien_thoai_nguoi_kham_benh: patient.telecom?.find((t) => t.system === 'phone')?.value ?? '',
    ngay_tai_kham: followDays ? vietnamDay(new Date(issued).getTime() + Number(followDays) * 86_400_000) : '',
    ngay_gio_ke_don: vnDateTime(issued),
    signature: '',
  };
}
