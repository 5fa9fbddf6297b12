/**
 * Ingest step 2: the FHIR Observations a message's checked readings become — placed at the
 * message's own time, naming the patient and the device, identified by (device, message id,
 * reading number) so that a reading is findable from the message that carried it.
 *
 * Rules: the Observations are written by the repository's createMany, which validates each
 * against the R4 StructureDefinitions like any other write; nothing is inserted unvalidated. Each
 * is built from its reading's template and vouched for by templates.ts (the template checked in
 * full once, the varying values tested per Observation — same verdict, far less work); one that
 * cannot be vouched for is checked in full by the store. If a
 * batch holds one that fails, the batch is run again in strict mode, where each message's
 * Observations are validated here first (the same validator), so that the failing ones go to
 * quarantine with the validator's reasons and the rest of the batch is stored.
 */
import type { Observation, OperationOutcomeIssue } from '@medplum/fhirtypes';
import { FhirError } from '../../fhir/outcome.ts';
import { vouchByTemplate, type SlotKind, type SlotPath } from '../../fhir/templates.ts';
import { assertValidResource } from '../../fhir/validate.ts';
import type { Accepted } from './checks.ts';

export const DEVICE_MESSAGE_SYSTEM = 'https://fhir.cauyte.vn/sid/device-message';

export function buildObservations(a: Accepted): Observation[] {
  return a.readings.map((r, n) => {
    const o = {
      ...r.observation,
      identifier: [{ system: DEVICE_MESSAGE_SYSTEM, value: `${a.deviceId}:${a.msgId}:${n}` }],
      subject: { reference: `Patient/${a.patientId}` },
      effectiveDateTime: a.time,
      device: { reference: `Device/${a.deviceId}` },
    } as Observation;
    vouchByTemplate(o, slotsOf(o));
    return o;
  });
}

const FIXED_SLOTS: { path: SlotPath; kind: SlotKind }[] = [
  { path: ['identifier', 0, 'value'], kind: 'token' },
  { path: ['subject', 'reference'], kind: 'reference' },
  { path: ['device', 'reference'], kind: 'reference' },
  { path: ['effectiveDateTime'], kind: 'instant' },
];

/**
 * What varies between the Observations of one kind of reading: the message identifier, patient,
 * device, time and measured values. Everything else comes from readings.ts's fixed tables, so a
 * template is checked in full once per kind of reading (templates.ts) and each Observation only
 * has these values tested (an unusual one — say a message id with spaces — means a full check).
 */
export function slotsOf(o: Observation): { path: SlotPath; kind: SlotKind }[] {
  const slots = [...FIXED_SLOTS];
  if (o.valueQuantity) slots.push({ path: ['valueQuantity', 'value'], kind: 'decimal' });
  if (Array.isArray(o.component))
    o.component.forEach((c, i) => {
      if (c?.valueQuantity) slots.push({ path: ['component', i, 'valueQuantity', 'value'], kind: 'decimal' });
    });
  return slots;
}

/** Why an Observation is not valid R4 (empty when it is), in the quarantine's words. */
export function invalidReasons(o: Observation): string[] {
  try {
    assertValidResource(o, 'Observation');
    return [];
  } catch (err) {
    if (!(err instanceof FhirError)) throw err;
    const issues: OperationOutcomeIssue[] = err.issues;
    const text = issues.map((i) => i.diagnostics ?? i.details?.text ?? i.code).join('; ') || err.message;
    return [`Số đo không tạo được Observation hợp lệ theo FHIR R4 (invalid FHIR Observation): ${text}`.slice(0, 1000)];
  }
}
