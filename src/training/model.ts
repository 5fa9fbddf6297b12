/**
 * The training domain's vocabulary: the Appointment category that marks a training session (so
 * the consult workflow does not own it and the video rooms treat it as a meeting with a chair),
 * the CME requirement by default (Circular 32/2023/TT-BYT; configurable in training_setting),
 * and small helpers shared by the use cases. No I/O here but through the repository passed in.
 */
import type { Appointment, Organization, Practitioner, Resource } from '@medplum/fhirtypes';
import type { Repository } from '../fhir/repository.ts';

export const TRAINING_CATEGORY = { system: 'https://fhir.cauyte.vn/CodeSystem/service-category', code: 'training', display: 'Đào tạo từ xa' };
export const CORRECT_EXT = 'https://fhir.cauyte.vn/StructureDefinition/training-correct-option';
export const CHAIR = { system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'PPRF', display: 'giảng viên chủ trì' };

/**
 * Continuing medical training: each practitioner updates medical knowledge for at least 120
 * periods (tiết) over the 5-year licence cycle (Circular 32/2023/TT-BYT detailing the Law on
 * Medical Examination and Treatment 2023). Kept as data: a facility may change it in settings.
 */
export const CME_DEFAULT = {
  requiredPeriods: 120,
  cycleYears: 5,
  rule: 'Thông tư 32/2023/TT-BYT: tối thiểu 120 tiết cập nhật kiến thức y khoa liên tục trong 5 năm',
};

export function isTrainingAppointment(r: Resource): r is Appointment {
  return (
    r.resourceType === 'Appointment' &&
    !!(r as Appointment).serviceCategory?.some((c) => c.coding?.some((x) => x.system === TRAINING_CATEGORY.system && x.code === TRAINING_CATEGORY.code))
  );
}

export const practitionerName = (p: Practitioner | undefined, fallback = ''): string => {
  const n = p?.name?.[0];
  return (n?.text ?? [n?.prefix?.join(' '), n?.family, ...(n?.given ?? [])].filter(Boolean).join(' ')) || fallback;
};

/** Names of facilities, read once per call (directory data). */
export async function orgNames(tx: Repository, ids: string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const id of new Set(ids.filter(Boolean))) {
    const o = await tx.tryRead<Organization>('Organization', id).catch(() => undefined);
    out.set(id, o?.name ?? id);
  }
  return out;
}

export const num = (x: unknown): number => Number(x ?? 0);
export const iso = (d: Date | string | null | undefined): string | null => (d ? new Date(d).toISOString() : null);
