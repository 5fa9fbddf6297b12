/**
 * How a case conference is written down in FHIR: the code systems and markers that say "this
 * resource is part of a case conference", and small readers over them. Pure data and functions
 * (no store, no I/O), shared by the use cases, the ownership rules (rules.ts), the triage queue
 * listener and the benchmarks.
 *
 *   ServiceRequest  category teleconsultation, identifier CONSULT_ID_SYSTEM = the client's id
 *   Task            the same identifier; businessStatus in STATE_SYSTEM = the case's state
 *   Composition     the case summary; the conclusion (tagged SIGNED_TAG once signed)
 *   Provenance      a signature (SIGNATURE_TYPE) or the requester's decision
 *   Appointment     a meeting (phiên hội chẩn): serviceCategory teleconsultation
 *   Encounter       a meeting's attendance: serviceType teleconsultation, the Appointment's id
 */
import type { Appointment, Composition, Encounter, Provenance, Reference, Resource, ServiceRequest, Task, TaskInput, TaskOutput } from '@medplum/fhirtypes';
import { htmlDiv } from '../fhir/narrative.ts';
import { STATE_SYSTEM, type ConsultState } from './workflow.ts';
import { SIGNATURE_TYPE } from './signing.ts';

export { STATE_SYSTEM } from './workflow.ts';
export const CONSULT_ID_SYSTEM = 'https://fhir.cauyte.vn/sid/consult-request';
export const ATTACHMENT_ID_SYSTEM = 'https://fhir.cauyte.vn/sid/attachment';
export const SPECIALTY_SYSTEM = 'https://fhir.cauyte.vn/CodeSystem/specialty';
export const TASK_PARAM_SYSTEM = 'https://fhir.cauyte.vn/CodeSystem/consult-task-param';
export const CONSULT_CATEGORY = { system: 'https://fhir.cauyte.vn/CodeSystem/service-category', code: 'teleconsultation', display: 'Hội chẩn từ xa' };
export const SIGNED_TAG = { system: 'https://fhir.cauyte.vn/CodeSystem/document-state', code: 'signed', display: 'Đã ký' };
export const LOINC = 'http://loinc.org';

/** How many waiting cases the triage queue shows at once (the most urgent, longest waiting). */
export const QUEUE_PAGE = 200;

/** The id after `Type/` in a reference, when it points at that type. */
export const ref = (r: Reference | undefined, type: string): string | undefined =>
  r?.reference?.startsWith(`${type}/`) ? r.reference.slice(type.length + 1) : undefined;

/** A Task input/output type of the case (specialist, cosigner, meeting, conclusion, decision, …). */
export const param = (code: string, display: string) => ({ coding: [{ system: TASK_PARAM_SYSTEM, code, display }] });
export const isParam = (x: TaskInput | TaskOutput, code: string): boolean => !!x.type.coding?.some((c) => c.system === TASK_PARAM_SYSTEM && c.code === code);

/** A Composition section with a LOINC code and a narrative. */
export function section(title: string, code: string, text: string) {
  return { title, code: { coding: [{ system: LOINC, code }] }, text: { status: 'generated' as const, div: htmlDiv(text) } };
}

export function stateOf(task: Task): ConsultState {
  return (task.businessStatus?.coding?.find((c) => c.system === STATE_SYSTEM)?.code ?? 'draft') as ConsultState;
}

type Coded = { coding?: { system?: string; code?: string }[] } | undefined;
const hasCode = (cs: Coded[] | undefined, system: string, code: string) => !!cs?.some((c) => c?.coding?.some((x) => x.system === system && x.code === code));
const teleconsultation = (cs: Coded[] | undefined) => hasCode(cs, CONSULT_CATEGORY.system, CONSULT_CATEGORY.code);

// ------------------------------------------------------------------ what belongs to the workflow

/** The case's Task: it carries the consult identifier or a state of the consult state machine. */
export function isConsultTask(r: Resource): r is Task {
  if (r.resourceType !== 'Task') return false;
  const t = r as Task;
  return !!t.identifier?.some((i) => i.system === CONSULT_ID_SYSTEM) || !!t.businessStatus?.coding?.some((c) => c.system === STATE_SYSTEM);
}

/** The request: a ServiceRequest of category teleconsultation, or carrying the consult identifier. */
export function isConsultRequest(r: Resource): r is ServiceRequest {
  if (r.resourceType !== 'ServiceRequest') return false;
  const s = r as ServiceRequest;
  return teleconsultation(s.category) || !!s.identifier?.some((i) => i.system === CONSULT_ID_SYSTEM);
}

/**
 * A case document: the case summary or a conclusion (draft or signed), marked with the
 * teleconsultation category — or, for documents written before the marker, the consult-note type.
 * A draft conclusion is the text the specialists are about to sign: nobody may rewrite it around
 * the workflow.
 */
export function isCaseDocument(r: Resource): boolean {
  if (r.resourceType !== 'Composition') return false;
  const c = r as Composition;
  return teleconsultation(c.category) || !!c.type?.coding?.some((x) => x.system === 'http://loinc.org' && x.code === '11488-4');
}

/** A conclusion (or any document) once signed: tagged signed. */
export function isSignedComposition(r: Resource): boolean {
  return r.resourceType === 'Composition' && !!r.meta?.tag?.some((t) => t.system === SIGNED_TAG.system && t.code === SIGNED_TAG.code);
}

/** A signature given through the consult workflow (author's signature on a document). */
export function isSignatureProvenance(r: Resource): boolean {
  return (
    r.resourceType === 'Provenance' &&
    !!(r as Provenance).signature?.some((s) => s.type?.some((t) => t.system === SIGNATURE_TYPE.system && t.code === SIGNATURE_TYPE.code))
  );
}

/** A meeting (phiên hội chẩn). */
export function isMeetingAppointment(r: Resource): r is Appointment {
  return r.resourceType === 'Appointment' && teleconsultation((r as Appointment).serviceCategory);
}

/** A meeting's attendance record. */
export function isMeetingEncounter(r: Resource): r is Encounter {
  return r.resourceType === 'Encounter' && teleconsultation((r as Encounter).serviceType ? [(r as Encounter).serviceType] : undefined);
}
