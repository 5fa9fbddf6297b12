/**
 * What the remote-examination workflow owns. Each of these carries state the visit's rules keep
 * (one booking per slot, one visit at a time per person, the reminder, the charge billed once, the
 * prescription as issued), so a plain FHIR write to one — creating it, changing it, deleting it,
 * or turning another resource into one — is refused with a 422 naming the route to use. Only a
 * repository acting through a visits action (or the platform itself) writes them.
 *
 * How each is told apart (markers only this domain writes, model.ts):
 *   - a booking's Appointment: the booking code (BOOKING_SYSTEM) or the remote-examination category;
 *   - a booked Slot: status `busy` on a remote-examination slot (free slots are published and
 *     changed through plain FHIR; `busy` is set and cleared only by booking);
 *   - a visit's ChargeItem: the payer extension (PAYER_EXT);
 *   - an e-prescription's MedicationRequest: the prescription code (PRESCRIPTION_SYSTEM);
 *   - the pre-visit QuestionnaireResponse: its questionnaire (PRE_VISIT_URL).
 */
import type { Appointment, ChargeItem, MedicationRequest, QuestionnaireResponse, Resource, Slot } from '@medplum/fhirtypes';
import type { FhirStore } from '../fhir/store.ts';
import { isRemoteExamination, PAYER_EXT, PRE_VISIT_URL, PRESCRIPTION_SYSTEM, SERVICE_CATEGORY } from './model.ts';

const remoteCategory = (s: Slot) =>
  !!s.serviceCategory?.some((c) => c.coding?.some((x) => x.system === SERVICE_CATEGORY.system && x.code === SERVICE_CATEGORY.code));

export const isBooking = (r: Resource): boolean => r.resourceType === 'Appointment' && isRemoteExamination(r as Appointment);
export const isBookedSlot = (r: Resource): boolean => r.resourceType === 'Slot' && (r as Slot).status === 'busy' && remoteCategory(r as Slot);
export const isVisitCharge = (r: Resource): boolean => r.resourceType === 'ChargeItem' && !!(r as ChargeItem).extension?.some((e) => e.url === PAYER_EXT);
export const isPrescriptionItem = (r: Resource): boolean =>
  r.resourceType === 'MedicationRequest' &&
  (!!(r as MedicationRequest).identifier?.some((i) => i.system === PRESCRIPTION_SYSTEM) ||
    (r as MedicationRequest).groupIdentifier?.system === PRESCRIPTION_SYSTEM);
export const isPreVisitAnswers = (r: Resource): boolean =>
  r.resourceType === 'QuestionnaireResponse' && !!(r as QuestionnaireResponse).questionnaire?.startsWith(PRE_VISIT_URL);

export function registerVisitRules(store: FhirStore): void {
  const own = (label: string, route: string, owns: (r: Resource) => boolean) => store.owns({ domain: 'visits', label, route, owns });
  own(
    'Lịch khám từ xa (remote-examination booking)',
    'POST /api/visits, POST /api/visits/{id}/cancel, POST /api/visits/{id}/reschedule, POST /api/visits/{id}/complete',
    isBooking,
  );
  own('Giờ khám đã đặt (booked slot)', 'POST /api/visits/{id}/cancel, POST /api/visits/{id}/reschedule', isBookedSlot);
  own('Chi phí lần khám từ xa (visit charge)', 'POST /api/visits/{id}/complete', isVisitCharge);
  own('Đơn thuốc điện tử (e-prescription)', 'POST /api/visits/{id}/complete', isPrescriptionItem);
  own('Câu trả lời trước khi khám (pre-visit answers)', 'POST /api/visits', isPreVisitAnswers);
}
