/**
 * What the case-conference workflow owns in the record, and the rule its documents keep.
 *
 * Owned (src/fhir/ownership.ts): a plain FHIR write that creates, changes or deletes one of these —
 * or turns another resource into one — is refused with a 422 naming the route to use; only the
 * consult use cases (a repository acting through a consult action) and the system write them.
 * Without this a commune clinician could "conclude" a case with a PUT on its Task, skipping
 * triage, the specialists and the signatures.
 *
 * Change rule: a signed document and a signature never change through plain FHIR (409); an
 * amendment is a new Composition that replaces the signed one.
 */
import type { Resource } from '@medplum/fhirtypes';
import type { FhirStore } from '../fhir/store.ts';
import { conflict } from '../fhir/outcome.ts';
import {
  isCaseDocument,
  isConsultRequest,
  isConsultTask,
  isMeetingAppointment,
  isMeetingEncounter,
  isSignatureProvenance,
  isSignedComposition,
} from './model.ts';

const DOMAIN = 'consult';

export function registerConsultRules(store: FhirStore): void {
  const own = (label: string, route: string, owns: (r: Resource) => boolean) => store.owns({ domain: DOMAIN, label, route, owns });
  own('Phiếu theo dõi ca hội chẩn (Task)', 'POST /api/consults/{id}/triage (và submit, conclusion, acknowledge, follow-up)', isConsultTask);
  own('Yêu cầu hội chẩn (ServiceRequest)', 'POST /api/consults (và /api/consults/{id}/submit, withdraw, triage)', isConsultRequest);
  own('Kết luận hội chẩn đã ký (Composition)', 'POST /api/consults/{id}/conclusion/amend', isSignedComposition);
  own('Tóm tắt hoặc kết luận hội chẩn (Composition)', 'PUT /api/consults/{id}/conclusion (bản nháp), POST /api/consults (tóm tắt)', isCaseDocument);
  own('Chữ ký kết luận hội chẩn (Provenance)', 'POST /api/consults/{id}/conclusion/sign', isSignatureProvenance);
  own('Phiên hội chẩn (Appointment)', 'POST /api/meetings', isMeetingAppointment);
  own('Điểm danh phiên hội chẩn (Encounter)', 'POST /api/meetings/{id}/attendance', isMeetingEncounter);

  // Signed documents and their signatures never change through the API (amend instead).
  store.addChangeRule((existing) => {
    if (isSignedComposition(existing)) {
      throw conflict('Tài liệu đã ký không thể sửa hay xóa; hãy lập bản sửa đổi (a signed document cannot be changed or deleted: amend it)');
    }
    if (existing.resourceType === 'Provenance' && (existing as { signature?: unknown[] }).signature?.length) {
      throw conflict('Chữ ký không thể sửa hay xóa (a signature cannot be changed or deleted)');
    }
  });
}
