/**
 * Prescribing safety: before an e-prescription is written, each item is checked against the
 * patient's recorded allergies and intolerances (the substance, or its ATC group — an allergy to
 * penicillins, J01C, matches amoxicillin J01CA04) and against the medicines the patient already
 * takes (same substance, or the same ATC therapeutic subgroup: duplicate therapy). Each warning
 * has a stable key; the clinician may go on only by acknowledging it with a reason, and that is
 * written into the record as a DetectedIssue (with the reason as its mitigation) that the
 * MedicationRequest references.
 *
 * Rules: pure functions over resources the caller's repository already read (no store here).
 */
import type { AllergyIntolerance, DetectedIssue, MedicationRequest, MedicationStatement, Practitioner, Reference } from '@medplum/fhirtypes';
import { ATC_SYSTEM, atcCodesInText, atcGroupName, drugByAtc } from '../terminology/drugs.ts';
import { foldText } from '../fhir/normalize.ts';
import type { PrescribingIssue } from './contract.ts';

export interface PrescribedItem {
  name: string;
  atc?: string;
}

type ActiveMedicine = MedicationRequest | MedicationStatement;

const conceptText = (c?: { text?: string; coding?: { display?: string; code?: string }[] }) =>
  c?.text ?? c?.coding?.find((x) => x.display)?.display ?? c?.coding?.[0]?.code ?? '';

/** The ATC code of a medicine, from its coding, or — for a free-text item — from the dictionary by name. */
export function atcOf(item: PrescribedItem): string | undefined {
  if (item.atc) return item.atc.toUpperCase();
  const found = atcCodesInText(item.name);
  return found.length === 1 ? found[0] : undefined;
}

function atcOfMedicine(m: ActiveMedicine): string | undefined {
  const cc = m.medicationCodeableConcept;
  return cc?.coding?.find((c) => c.system === ATC_SYSTEM)?.code ?? atcOf({ name: conceptText(cc) });
}

/** The ATC codes an allergy names: its codings in the ATC system, else what its text names. */
function allergyCodes(a: AllergyIntolerance): string[] {
  const coded = (a.code?.coding ?? []).filter((c) => c.system === ATC_SYSTEM && c.code).map((c) => c.code!.toUpperCase());
  return coded.length ? coded : atcCodesInText(conceptText(a.code));
}

const isActive = (a: AllergyIntolerance) =>
  a.clinicalStatus?.coding?.[0]?.code !== 'resolved' &&
  a.clinicalStatus?.coding?.[0]?.code !== 'inactive' &&
  a.verificationStatus?.coding?.[0]?.code !== 'refuted' &&
  a.verificationStatus?.coding?.[0]?.code !== 'entered-in-error';

/** Every warning for these items; an empty list when the prescription raises none. */
export function prescribingIssues(items: PrescribedItem[], allergies: AllergyIntolerance[], current: ActiveMedicine[]): PrescribingIssue[] {
  const issues: PrescribingIssue[] = [];
  items.forEach((item, index) => {
    const atc = atcOf(item);
    const drug = item.name;
    for (const a of allergies.filter(isActive)) {
      const substance = conceptText(a.code) || 'không rõ chất';
      const codes = allergyCodes(a);
      const byCode = atc ? codes.find((c) => atc.startsWith(c) || (c.length >= 5 && atc.slice(0, 4) === c.slice(0, 4))) : undefined;
      const byName = !byCode && foldText(substance).length >= 4 && foldText(drug).includes(foldText(substance));
      if (!byCode && !byName) continue;
      const group = byCode && byCode !== atc ? atcGroupName(byCode.slice(0, 4)) : undefined;
      issues.push({
        key: `allergy:${index}:AllergyIntolerance/${a.id}`,
        kind: 'allergy',
        item: index,
        drug,
        against: substance,
        againstRef: `AllergyIntolerance/${a.id}`,
        severity: a.criticality === 'low' ? 'moderate' : 'high',
        text: `${drug}: người bệnh có ghi nhận dị ứng ${substance}${group ? ` (${group})` : ''}${a.criticality === 'high' ? ', nguy cơ cao' : ''}.`,
      });
    }
    for (const m of current) {
      const theirs = atcOfMedicine(m);
      const name = conceptText(m.medicationCodeableConcept) || 'thuốc đang dùng';
      const same = atc && theirs ? atc === theirs : foldText(name).split(' ')[0] === foldText(drug).split(' ')[0];
      const sameGroup = !same && atc && theirs && atc.length >= 5 && theirs.length >= 5 && atc.slice(0, 5) === theirs.slice(0, 5);
      if (!same && !sameGroup) continue;
      const group = sameGroup ? (drugByAtc(atc!)?.groupName ?? atcGroupName(atc!.slice(0, 4))) : undefined;
      issues.push({
        key: `duplicate:${index}:${m.resourceType}/${m.id}`,
        kind: 'duplicate',
        item: index,
        drug,
        against: name,
        againstRef: `${m.resourceType}/${m.id}`,
        severity: 'moderate',
        text: same ? `${drug}: trùng với thuốc đang dùng ${name}.` : `${drug}: cùng nhóm ${group ?? atc!.slice(0, 5)} với thuốc đang dùng ${name}.`,
      });
    }
  });
  return issues;
}

const ACT_CODE = 'http://terminology.hl7.org/CodeSystem/v3-ActCode';

/** The record of a warning the clinician saw and overrode, with the reason as its mitigation. */
export function detectedIssue(issue: PrescribingIssue, reason: string, id: string, subject: Reference, author: Reference, now: string): DetectedIssue {
  return {
    resourceType: 'DetectedIssue',
    id,
    status: 'final',
    code: {
      coding: [
        issue.kind === 'allergy'
          ? { system: ACT_CODE, code: 'DALG', display: 'Drug Allergy' }
          : { system: ACT_CODE, code: 'DUPTHPY', display: 'Duplicate Therapy Alert' },
      ],
      text: issue.kind === 'allergy' ? 'Cảnh báo dị ứng thuốc' : 'Cảnh báo trùng thuốc',
    },
    severity: issue.severity,
    patient: subject as DetectedIssue['patient'],
    identifiedDateTime: now,
    author: author as DetectedIssue['author'],
    implicated: [{ reference: issue.againstRef }],
    detail: issue.text,
    mitigation: [{ action: { text: `Bác sĩ vẫn kê đơn sau khi xem cảnh báo. Lý do: ${reason}` }, date: now, author: author as Reference<Practitioner> }],
  };
}
