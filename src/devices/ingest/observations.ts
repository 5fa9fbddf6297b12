/**
 * Ingest step 2: the FHIR Observations a message's checked readings become — placed at the
 * message's own time, naming the patient and the device, identified by (device, message id,
 * reading number) so that a reading is findable from the message that carried it.
 *
 * Rules: the Observations are written by the repository's createMany, which validates each
 * against the R4 StructureDefinitions like any other write; nothing is inserted unvalidated. If a
 * batch holds one that fails, the batch is run again in strict mode, where each message's
 * Observations are validated here first (the same validator), so that the failing ones go to
 * quarantine with the validator's reasons and the rest of the batch is stored.
 */
import type { Observation, OperationOutcomeIssue } from '@medplum/fhirtypes';
import { FhirError } from '../../fhir/outcome.ts';
import { assertValidResource } from '../../fhir/validate.ts';
import type { Accepted } from './checks.ts';

export const DEVICE_MESSAGE_SYSTEM = 'https://fhir.cauyte.vn/sid/device-message';

export function buildObservations(a: Accepted): Observation[] {
  return a.readings.map(
    (r, n) =>
      ({
        ...r.observation,
        identifier: [{ system: DEVICE_MESSAGE_SYSTEM, value: `${a.deviceId}:${a.msgId}:${n}` }],
        subject: { reference: `Patient/${a.patientId}` },
        effectiveDateTime: a.time,
        device: { reference: `Device/${a.deviceId}` },
      }) as Observation,
  );
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
