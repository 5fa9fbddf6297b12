/** Small display helpers for FHIR data in Vietnamese conventions. */
import type { CodeableConcept, HumanName, Identifier, Patient, Quantity } from '@medplum/fhirtypes';
import { t } from './i18n.ts';

export const CCCD_SYSTEM = 'https://fhir.cauyte.vn/sid/cccd';
export const BHYT_SYSTEM = 'https://fhir.cauyte.vn/sid/bhyt';

/** Vietnamese order: family name first. */
export function displayName(names?: HumanName[]): string {
  const n = names?.find((x) => x.use === 'official') ?? names?.[0];
  if (!n) return '—';
  return n.text ?? [n.family, ...(n.given ?? [])].filter(Boolean).join(' ');
}

export function identifier(ids: Identifier[] | undefined, system: string): string | undefined {
  return ids?.find((i) => i.system === system)?.value;
}

export function genderLabel(g?: string): string {
  const d = t();
  return g === 'male' ? d.male : g === 'female' ? d.female : g === 'other' ? d.other : d.unknown;
}

export function ageOf(birthDate?: string): number | undefined {
  if (!birthDate) return undefined;
  const b = new Date(birthDate);
  const now = new Date();
  let age = now.getFullYear() - b.getFullYear();
  if (now.getMonth() < b.getMonth() || (now.getMonth() === b.getMonth() && now.getDate() < b.getDate())) age--;
  return age;
}

export function conceptText(c?: CodeableConcept): string {
  return c?.text ?? c?.coding?.[0]?.display ?? c?.coding?.[0]?.code ?? '';
}

export function quantityText(q?: Quantity): string {
  if (!q || q.value === undefined) return '';
  return `${q.value.toLocaleString('vi-VN')} ${q.unit ?? q.code ?? ''}`.trim();
}

export function addressText(p: Patient): string {
  const a = p.address?.[0];
  if (!a) return '';
  return a.text ?? [...(a.line ?? []), a.city, a.district, a.state].filter(Boolean).join(', ');
}
