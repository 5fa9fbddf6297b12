/**
 * How imaging lives in the FHIR record (codes, systems, predicates), shared by the imaging modules.
 *
 *   ImagingStudy      identifier urn:dicom:uid = urn:oid:<StudyInstanceUID>; endpoint → the store
 *   Endpoint          the DICOMweb store (identifier ENDPOINT_ID_SYSTEM|dicomweb-<kind>)
 *   ServiceRequest    category IMAGING_CATEGORY: a request that a hub read the study
 *   DiagnosticReport  category RAD, imagingStudy → the study; signed = tagged SIGNED_REPORT_TAG
 *   Provenance        the report's signature (Verification Signature, Ed25519 as in consult)
 */
import type { Patient, Reference, Resource } from '@medplum/fhirtypes';

export const STUDY_UID_SYSTEM = 'urn:dicom:uid';
export const ENDPOINT_ID_SYSTEM = 'https://cauyte.vn/fhir/sid/imaging-endpoint';
export const REQUESTING_ORG_EXT = 'https://cauyte.vn/fhir/StructureDefinition/requesting-organization';
export const IMAGING_CATEGORY = { system: 'http://snomed.info/sct', code: '363679005', display: 'Chẩn đoán hình ảnh (Imaging)' };
export const RAD_CATEGORY = { system: 'http://terminology.hl7.org/CodeSystem/v2-0074', code: 'RAD', display: 'Radiology' };
export const SIGNED_REPORT_TAG = { system: 'https://cauyte.vn/fhir/CodeSystem/document-state', code: 'signed-imaging-report', display: 'Đã ký' };
export const REPORT_SIGNATURE_TYPE = { system: 'urn:iso-astm:E1762-95:2013', code: '1.2.840.10065.1.12.1.5', display: 'Verification Signature' };
export const ICD10_SYSTEM = 'http://hl7.org/fhir/sid/icd-10';

export const studyRef = (patientId: string): Reference<Patient> => ({ reference: `Patient/${patientId}` });

export const refId = (r: Reference | undefined, type: string): string | undefined => {
  const m = r?.reference ? new RegExp(`^${type}/([A-Za-z0-9\\-.]{1,64})$`).exec(r.reference) : null;
  return m?.[1];
};

const hasCoding = (list: { coding?: { system?: string; code?: string }[] }[] | undefined, c: { system: string; code: string }) =>
  !!list?.some((cc) => cc.coding?.some((x) => x.system === c.system && x.code === c.code));

export function isImagingStudy(r: Resource): boolean {
  return r.resourceType === 'ImagingStudy' && !!(r as { identifier?: { system?: string }[] }).identifier?.some((i) => i.system === STUDY_UID_SYSTEM);
}

export function isReadingRequest(r: Resource): boolean {
  return r.resourceType === 'ServiceRequest' && hasCoding((r as { category?: never[] }).category, IMAGING_CATEGORY);
}

export function isImagingReport(r: Resource): boolean {
  return r.resourceType === 'DiagnosticReport' && hasCoding((r as { category?: never[] }).category, RAD_CATEGORY);
}

export function isSignedReport(r: Resource | undefined): boolean {
  return !!r && r.resourceType === 'DiagnosticReport' && !!r.meta?.tag?.some((t) => t.system === SIGNED_REPORT_TAG.system && t.code === SIGNED_REPORT_TAG.code);
}

export function isReportSignature(r: Resource): boolean {
  return (
    r.resourceType === 'Provenance' &&
    !!(r as { signature?: { type?: { system?: string; code?: string }[] }[] }).signature?.some((s) =>
      s.type?.some((t) => t.system === REPORT_SIGNATURE_TYPE.system && t.code === REPORT_SIGNATURE_TYPE.code),
    )
  );
}
