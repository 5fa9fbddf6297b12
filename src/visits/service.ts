/**
 * Remote examination (khám bệnh từ xa) for citizens, one façade over its use cases:
 *   catalog.ts     — services, slots, the pre-visit questionnaire;
 *   booking.ts     — book (eligibility, answers, one booking per slot), cancel, reschedule, my visits;
 *   visit.ts       — the clinician's queue and one visit as its parties see it;
 *   completion.ts  — the end of the visit: note, diagnosis, e-prescription, charge;
 *   prescriptions.ts — the printable prescription and the pharmacy's check;
 *   charges.ts     — the facility's charges of a day.
 * Rules: every use case reaches the record through a repository (src/fhir/repository.ts) for the
 * acting person and the route's action, or the platform's own for genuine platform work (the
 * catalogue, the demo). Citizens act for themselves or for family members they manage — a
 * question for the family domain (src/family). What the workflow owns: rules.ts.
 */
import type { PrescribedItem } from './safety.ts';
import type { Appointment } from '@medplum/fhirtypes';
import type { AccessContext } from '../auth/actor.ts';
import type { EligibilityDecision, EligibilityService } from '../consult/eligibility.ts';
import type { EventBus } from '../events/bus.ts';
import type { FamilyService } from '../family/service.ts';
import type { FhirStore } from '../fhir/store.ts';
import { Booking } from './booking.ts';
import { Catalog } from './catalog.ts';
import { Charges } from './charges.ts';
import { VisitCompletion } from './completion.ts';
import type {
  BookingRequest,
  ChargeRow,
  Completed,
  CompleteInput,
  CreateServiceRequest,
  FreeSlot,
  MyVisit,
  PrescriptionCheck,
  PrescribingCheck,
  PublishSlotsRequest,
  QueueItem,
  ServiceInfo,
  SlotsPublished,
  VisitView,
} from './contract.ts';
import type { PrescriptionDoc } from './prescription.ts';
import { Prescriptions } from './prescriptions.ts';
import { Visits } from './visit.ts';

export class VisitService {
  readonly catalog: Catalog;
  private readonly booking: Booking;
  private readonly visits: Visits;
  private readonly completion: VisitCompletion;
  private readonly prescriptions: Prescriptions;
  private readonly chargeList: Charges;

  constructor(
    store: FhirStore,
    bus: EventBus,
    private readonly eligibility: EligibilityService,
    family: FamilyService,
    /** Absolute base of links sent to people (QR codes, SMS). */
    baseUrl: string,
  ) {
    this.catalog = new Catalog(store);
    this.booking = new Booking(store, bus, eligibility, family, this.catalog, baseUrl);
    this.visits = new Visits(store, family);
    this.completion = new VisitCompletion(store, bus);
    this.prescriptions = new Prescriptions(store, baseUrl);
    this.chargeList = new Charges(store);
  }

  // The catalogue.
  preVisit() {
    return this.catalog.preVisit();
  }
  services(): Promise<ServiceInfo[]> {
    return this.catalog.services();
  }
  freeSlots(serviceId: string, days?: number): Promise<FreeSlot[]> {
    return this.catalog.freeSlots(serviceId, days);
  }
  createService(ctx: AccessContext, input: CreateServiceRequest): Promise<ServiceInfo> {
    return this.catalog.createService(ctx, input);
  }
  publishSlots(ctx: AccessContext, input: PublishSlotsRequest): Promise<SlotsPublished> {
    return this.catalog.publishSlots(ctx, input);
  }

  // Booking.
  checkEligibility(icd10: string): Promise<EligibilityDecision> {
    return this.eligibility.check(icd10);
  }
  book(ctx: AccessContext, input: BookingRequest): Promise<{ appointment: Appointment; eligibility: EligibilityDecision; bookingCode: string }> {
    return this.booking.book(ctx, input);
  }
  cancel(ctx: AccessContext, id: string, reason: string): Promise<Appointment> {
    return this.booking.cancel(ctx, id, reason);
  }
  reschedule(ctx: AccessContext, id: string, slotId: string): Promise<Appointment> {
    return this.booking.reschedule(ctx, id, slotId);
  }
  mine(ctx: AccessContext): Promise<MyVisit[]> {
    return this.booking.mine(ctx);
  }

  // The visit.
  queue(ctx: AccessContext, from: Date, days: number, waiting: (appointmentId: string) => number): Promise<QueueItem[]> {
    return this.visits.queue(ctx, from, days, waiting);
  }
  view(ctx: AccessContext, id: string): Promise<VisitView> {
    return this.visits.view(ctx, id);
  }
  complete(ctx: AccessContext, id: string, input: CompleteInput): Promise<Completed> {
    return this.completion.complete(ctx, id, input);
  }
  checkPrescribing(ctx: AccessContext, id: string, items: PrescribedItem[]): Promise<PrescribingCheck> {
    return this.completion.check(ctx, id, items);
  }
  prescription(ctx: AccessContext, code: string): Promise<PrescriptionDoc> {
    return this.prescriptions.document(ctx, code);
  }
  prescriptionCheck(code: string): Promise<PrescriptionCheck> {
    return this.prescriptions.check(code);
  }

  // The facility's charges.
  charges(ctx: AccessContext, date: string): Promise<ChargeRow[]> {
    return this.chargeList.ofDay(ctx, date);
  }
}
