/**
 * Remote examination (khám bệnh từ xa) for citizens, over FHIR:
 *   publish  — a practitioner's Schedule and Slots for a HealthcareService;
 *   book     — eligibility (Circular 30/2023) and the pre-visit QuestionnaireResponse, then an
 *              Appointment; `slot_booking`'s primary key lets exactly one of two simultaneous
 *              bookings of a slot commit; reminders go to the outbox;
 *   cancel / reschedule — in one transaction, the slot freed or swapped;
 *   visit    — the clinician's queue and, at the end, one transaction writing the Encounter,
 *              Condition, patient-reported Observations, the visit note (Composition), the
 *              e-prescription (MedicationRequests sharing a prescription code) and the ChargeItem.
 * Citizens act for themselves or for a family member they manage (family_link); every access
 * goes through the FHIR guard (relationship, consent, audit).
 */
import { randomUUID } from 'node:crypto';
import type {
  Appointment, ChargeItem, Composition, Condition, Encounter, HealthcareService, MedicationRequest, Observation, Organization, Patient, Practitioner,
  Questionnaire, QuestionnaireResponse, Reference, RelatedPerson, Resource, Schedule, Slot,
} from '@medplum/fhirtypes';
import type { Queryable } from '../db/db.ts';
import type { AccessContext } from '../auth/actor.ts';
import { AccessDenied } from '../auth/access.ts';
import { familyLink } from '../auth/family.ts';
import { actorFields } from '../auth/principal.ts';
import type { AuditLog } from '../audit/audit.ts';
import type { EventBus } from '../events/bus.ts';
import type { FhirService } from '../fhir/service.ts';
import { badRequest, businessRule, conflict, notFound } from '../fhir/outcome.ts';
import { ICD10_SYSTEM } from '../terminology/icd10.ts';
import { htmlDiv, narrativeText } from '../fhir/narrative.ts';
import { BHYT_SYSTEM, CCCD_SYSTEM } from '../terminology/identifiers.ts';
import { addNotification, cancelMessage, enqueueMessage } from '../events/outbox.ts';
import type { EligibilityDecision, EligibilityService } from '../consult/eligibility.ts';
import {
  answerItems, answerText, BHYT_CARD_EXT, BOOKING_SYSTEM, healthcareService, PAYER_EXT, PRE_VISIT_URL, preVisitQuestionnaire, SERVICE_CATEGORY, serviceInfo,
  type Answers, type ServiceInfo,
} from './catalog.ts';
import { facilityCode, prescriptionCode, type PrescriptionDoc } from './prescription.ts';

export const PRESCRIPTION_SYSTEM = 'https://fhir.cauyte.vn/sid/prescription-code';
/** Số đăng ký thuốc (the drug's marketing-authorisation number in Việt Nam). */
export const DRUG_REGISTRATION_SYSTEM = 'https://fhir.cauyte.vn/sid/vn-drug-registration';
const LOINC = 'http://loinc.org';
const UCUM = 'http://unitsofmeasure.org';
const VITALS = { system: 'http://terminology.hl7.org/CodeSystem/observation-category', code: 'vital-signs', display: 'Dấu hiệu sinh tồn' };
const TZ_OFFSET = '+07:00';
const PRE_VISIT_ID = 'cauyte-pre-visit';
const CATEGORY_QUERY = `${SERVICE_CATEGORY.system}|${SERVICE_CATEGORY.code}`;

/** The relation of the managed family member to the citizen who manages their record. */
export const FAMILY_RELATIONS = {
  child: { code: 'PRN', display: 'Cha/mẹ', member: 'Con' },
  parent: { code: 'CHILD', display: 'Con', member: 'Cha/mẹ' },
  spouse: { code: 'SPS', display: 'Vợ/chồng', member: 'Vợ/chồng' },
  grandparent: { code: 'GRNDCHILD', display: 'Cháu', member: 'Ông/bà' },
  ward: { code: 'GUARD', display: 'Người giám hộ', member: 'Người được giám hộ' },
} as const;
export type FamilyRelation = keyof typeof FAMILY_RELATIONS;
const PROOF_EXT = 'https://fhir.cauyte.vn/StructureDefinition/relation-proof';
const MANAGER_EXT = 'https://fhir.cauyte.vn/StructureDefinition/managed-by-patient';

export interface BookingInput {
  patientId: string;
  slotId: string;
  icd10: { code: string; display?: string };
  reason: string;
  answers: Answers;
}

export interface CompleteInput {
  findings: string;
  assessment: string;
  diagnosis: { code: string; display?: string };
  instructions: string;
  followUpDays?: number;
  reported?: { systolic?: number; diastolic?: number; heartRate?: number; weightKg?: number; temperatureC?: number };
  prescription?: { items: { name: string; drugCode?: string; quantity: number; unit: string; dosage: string; days?: number }[]; advice?: string };
  /** The BHYT card presented at this visit; defaults to the one on the patient's record. */
  bhytCard?: string;
  useInsurance: boolean;
}

const idOf = (r: Reference | undefined, type: string) => (r?.reference?.startsWith(`${type}/`) ? r.reference.slice(type.length + 1) : undefined);
export const personName = (r: { name?: { text?: string; family?: string; given?: string[] }[] } | undefined) =>
  r?.name?.[0]?.text ?? [r?.name?.[0]?.family, ...(r?.name?.[0]?.given ?? [])].filter(Boolean).join(' ') ?? '';
const identifier = (p: Patient | undefined, system: string) => p?.identifier?.find((i) => i.system === system)?.value;


/** "2026-11-25" + "08:15" → the instant in Việt Nam time. */
function localInstant(date: string, time: string): string {
  return new Date(`${date}T${time}:00${TZ_OFFSET}`).toISOString();
}

export class VisitService {
  private questionnaire?: Questionnaire;

  constructor(
    private readonly fhir: FhirService,
    private readonly audit: AuditLog,
    private readonly bus: EventBus,
    private readonly eligibility: EligibilityService,
    /** Absolute base of links sent to people (QR codes, SMS). */
    private readonly baseUrl: string,
  ) {}

  private get db() {
    return this.fhir.db;
  }

  private async record(q: Queryable, ctx: AccessContext, action: string, patientId: string, resource?: { type: string; id: string }, detail?: Record<string, unknown>): Promise<void> {
    if (ctx.actor.via === 'test') return;
    await this.audit.append(q, { ...actorFields(ctx), action: `visit.${action}`, outcome: 'success', resourceType: resource?.type, resourceId: resource?.id, patientIds: [patientId], reason: ctx.purpose, detail });
  }

  /** The pre-visit questionnaire: made the first time it is needed, under a fixed id (so only once). */
  async preVisit(): Promise<Questionnaire> {
    if (this.questionnaire) return this.questionnaire;
    let q = (await this.fhir.repo.tryRead<Questionnaire>('Questionnaire', PRE_VISIT_ID)) as Questionnaire | undefined;
    if (!q) {
      try {
        q = (await this.fhir.repo.update<Questionnaire>({ ...preVisitQuestionnaire(), id: PRE_VISIT_ID })).resource;
      } catch {
        q = (await this.fhir.repo.read<Questionnaire>('Questionnaire', PRE_VISIT_ID)) as Questionnaire; // made meanwhile by another request
      }
    }
    this.questionnaire = q;
    return q;
  }

  async services(): Promise<ServiceInfo[]> {
    const b = await this.fhir.searchBundle('HealthcareService', new URLSearchParams({ 'service-category': CATEGORY_QUERY, active: 'true', _count: '200' }));
    return (b.entry ?? []).map((e) => serviceInfo(e.resource as HealthcareService));
  }

  async createService(ctx: AccessContext, input: { code: string; name: string; specialty: string; price: number; bhytCovered: boolean; organizationId?: string }): Promise<ServiceInfo> {
    const orgId = input.organizationId ?? ctx.actor.organizationId;
    if (!orgId) throw new AccessDenied('Tài khoản chưa gắn với cơ sở y tế (your account has no facility)');
    if (ctx.actor.via !== 'test' && orgId !== ctx.actor.organizationId) throw new AccessDenied('Chỉ tạo dịch vụ cho cơ sở của mình (only for your own facility)');
    const org = (await this.fhir.repo.tryRead<Organization>('Organization', orgId)) as Organization | undefined;
    if (!org) throw badRequest(`Không có cơ sở ${orgId}`);
    const h = await this.fhir.repo.create(healthcareService({ ...input, organizationId: orgId, organizationName: org.name ?? '' }));
    return serviceInfo(h);
  }

  /**
   * Publishes bookable times: one Slot every `minutes` from `start` to `end` (Việt Nam time) on each
   * of `days` days from `from`. Idempotent: a time that already has a slot is skipped.
   */
  async publishSlots(ctx: AccessContext, input: { practitionerId: string; serviceId: string; from: string; days: number; start: string; end: string; minutes: number }): Promise<{ scheduleId: string; created: number }> {
    const service = (await this.fhir.repo.tryRead<HealthcareService>('HealthcareService', input.serviceId)) as HealthcareService | undefined;
    if (!service) throw badRequest(`Không có dịch vụ ${input.serviceId} (unknown service)`);
    const info = serviceInfo(service);
    if (ctx.actor.via !== 'test' && info.organizationId !== ctx.actor.organizationId) throw new AccessDenied('Chỉ xếp lịch cho dịch vụ của cơ sở mình (only for your facility’s services)');
    if (ctx.actor.via !== 'test' && ctx.actor.role !== 'facility_admin' && ctx.actor.role !== 'coordinator' && ctx.actor.practitionerId !== input.practitionerId) {
      throw new AccessDenied('Bác sĩ chỉ xếp lịch của chính mình (clinicians publish their own schedule)');
    }
    const practitioner = (await this.fhir.repo.tryRead<Practitioner>('Practitioner', input.practitionerId)) as Practitioner | undefined;
    if (!practitioner) throw badRequest(`Không có bác sĩ ${input.practitionerId}`);
    if (input.start >= input.end) throw badRequest('Giờ bắt đầu phải trước giờ kết thúc (start must be before end)');
    return this.db.transaction(async (q) => {
      const actorRefs = [`Practitioner/${input.practitionerId}`, `HealthcareService/${input.serviceId}`];
      const existing = (await this.fhir.conditionalMatches(q, 'Schedule', new URLSearchParams({ actor: actorRefs[0] }))) as Schedule[];
      let schedule = existing.find((s) => s.actor.some((a) => a.reference === actorRefs[1]));
      schedule ??= await this.fhir.repo.create<Schedule>({
        resourceType: 'Schedule',
        active: true,
        serviceCategory: [{ coding: [SERVICE_CATEGORY] }],
        serviceType: service.type,
        actor: [{ reference: actorRefs[0], display: personName(practitioner) }, { reference: actorRefs[1], display: info.name }],
        comment: `Lịch khám từ xa: ${info.name}`,
      }, q);
      const taken = new Set(
        ((await this.fhir.conditionalMatches(q, 'Slot', new URLSearchParams({ schedule: `Schedule/${schedule.id}`, start: `ge${localInstant(input.from, '00:00')}` }))) as Slot[]).map((s) => new Date(s.start).getTime()),
      );
      const slots: Slot[] = [];
      const first = new Date(`${input.from}T00:00:00Z`);
      for (let d = 0; d < input.days; d++) {
        const day = new Date(first.getTime() + d * 86_400_000).toISOString().slice(0, 10);
        for (let t = new Date(localInstant(day, input.start)).getTime(); t + input.minutes * 60_000 <= new Date(localInstant(day, input.end)).getTime(); t += input.minutes * 60_000) {
          if (taken.has(t)) continue;
          slots.push({ resourceType: 'Slot', schedule: { reference: `Schedule/${schedule.id}` }, status: 'free', start: new Date(t).toISOString(), end: new Date(t + input.minutes * 60_000).toISOString(), serviceCategory: [{ coding: [SERVICE_CATEGORY] }], serviceType: service.type });
        }
      }
      await this.fhir.repo.createMany(slots, q);
      return { scheduleId: schedule.id!, created: slots.length };
    });
  }

  /** Free future slots of a service, with the practitioner each belongs to. */
  async freeSlots(serviceId: string, days = 14): Promise<{ id: string; start: string; end: string; practitioner: { id: string; name: string } }[]> {
    const schedules = (await this.fhir.conditionalMatches(this.db, 'Schedule', new URLSearchParams({ actor: `HealthcareService/${serviceId}`, active: 'true' }))) as Schedule[];
    const out: { id: string; start: string; end: string; practitioner: { id: string; name: string } }[] = [];
    const now = new Date();
    const until = new Date(now.getTime() + days * 86_400_000);
    for (const s of schedules) {
      const pr = s.actor.find((a) => a.reference?.startsWith('Practitioner/'));
      const b = await this.fhir.searchBundle('Slot', new URLSearchParams([['schedule', `Schedule/${s.id}`], ['status', 'free'], ['start', `gt${now.toISOString()}`], ['start', `lt${until.toISOString()}`], ['_sort', 'start'], ['_count', '500']]));
      for (const e of b.entry ?? []) {
        const slot = e.resource as Slot;
        out.push({ id: slot.id!, start: slot.start, end: slot.end, practitioner: { id: idOf(pr, 'Practitioner') ?? '', name: pr?.display ?? '' } });
      }
    }
    return out.sort((a, b) => a.start.localeCompare(b.start));
  }

  /** The booker's right to act for this patient: themselves or a managed family member (403 otherwise). */
  private async patientFor(ctx: AccessContext, patientId: string): Promise<Patient> {
    if (ctx.actor.via !== 'test' && ctx.actor.role === 'citizen' && patientId !== ctx.actor.patientId) {
      if (!(await this.managedBy(ctx, patientId))) throw new AccessDenied('Bạn chỉ đặt lịch cho mình hoặc người thân bạn quản lý hồ sơ (only for yourself or a family member you manage)', 403, false, patientId);
    }
    return (await this.fhir.read('Patient', patientId, undefined, ctx)) as Patient;
  }

  async checkEligibility(icd10: string): Promise<EligibilityDecision> {
    return this.eligibility.check(icd10);
  }

  async book(ctx: AccessContext, input: BookingInput): Promise<{ appointment: Appointment; eligibility: EligibilityDecision; bookingCode: string }> {
    const patient = await this.patientFor(ctx, input.patientId);
    const decision = await this.eligibility.check(input.icd10.code);
    if (!decision.eligible) throw businessRule(decision.reason, ['icd10']);
    const questionnaire = await this.preVisit();
    const items = answerItems(questionnaire, input.answers);
    if (input.answers['red-flags'] === true) {
      throw businessRule('Có dấu hiệu cấp cứu: không khám từ xa. Gọi 115 hoặc đến cơ sở y tế gần nhất ngay. (Emergency signs: call 115 or go to the nearest facility now.)', ['answers.red-flags']);
    }
    const slot0 = (await this.fhir.repo.tryRead<Slot>('Slot', input.slotId)) as Slot | undefined;
    if (!slot0) throw notFound(`Không có giờ khám ${input.slotId} (no such slot)`);
    const schedule = (await this.fhir.repo.read('Schedule', slot0.schedule.reference!.split('/')[1])) as Schedule;
    const practitionerRef = schedule.actor.find((a) => a.reference?.startsWith('Practitioner/'))!;
    const serviceId = idOf(schedule.actor.find((a) => a.reference?.startsWith('HealthcareService/')), 'HealthcareService')!;
    const service = serviceInfo((await this.fhir.repo.read('HealthcareService', serviceId)) as HealthcareService);
    const bookingCode = randomUUID().slice(0, 8).toUpperCase();
    const appointmentId = randomUUID();
    const appointment = await this.db.transaction(async (q) => {
      const slot = (await this.fhir.repo.read('Slot', input.slotId, q)) as Slot;
      if (new Date(slot.start).getTime() <= Date.now()) throw businessRule('Giờ khám này đã qua (this time has passed)');
      await this.claimSlot(q, slot, appointmentId, input.patientId, ctx);
      const qr = await this.fhir.repo.create<QuestionnaireResponse>({
        resourceType: 'QuestionnaireResponse',
        questionnaire: `${PRE_VISIT_URL}|${questionnaire.version}`,
        status: 'completed',
        subject: { reference: `Patient/${input.patientId}` },
        authored: new Date().toISOString(),
        source: { reference: `Patient/${ctx.actor.patientId ?? input.patientId}` },
        item: items,
      }, q);
      const a = await this.fhir.repo.update<Appointment>({
        resourceType: 'Appointment',
        id: appointmentId,
        identifier: [{ system: BOOKING_SYSTEM, value: bookingCode }],
        status: 'booked',
        serviceCategory: [{ coding: [SERVICE_CATEGORY], text: SERVICE_CATEGORY.display }],
        serviceType: [{ coding: [{ system: 'https://fhir.cauyte.vn/CodeSystem/visit-service', code: service.code, display: service.name }], text: service.name }],
        reasonCode: [{ coding: [{ system: ICD10_SYSTEM, code: input.icd10.code, ...(input.icd10.display ? { display: input.icd10.display } : {}) }], text: input.reason }],
        description: `${service.name}: ${input.reason}`.slice(0, 500),
        start: slot.start,
        end: slot.end,
        slot: [{ reference: `Slot/${slot.id}` }],
        created: new Date().toISOString(),
        comment: `Danh mục TT30 phiên bản ${decision.listVersion}: ${decision.reason}`.slice(0, 1000),
        supportingInformation: [{ reference: `QuestionnaireResponse/${qr.id}` }, { reference: `HealthcareService/${service.id}`, display: service.name }],
        participant: [
          { actor: { reference: `Patient/${input.patientId}`, display: personName(patient) }, required: 'required', status: 'accepted' },
          { actor: { reference: practitionerRef.reference!, display: practitionerRef.display }, required: 'required', status: 'accepted' },
          { actor: { reference: `HealthcareService/${service.id}`, display: service.name }, required: 'information-only', status: 'accepted' },
        ],
      }, {}, q).then((r) => r.resource);
      await this.remind(q, a, patient, ctx);
      await addNotification(q, { practitionerId: idOf(practitionerRef, 'Practitioner') }, 'visit', `Lịch khám từ xa mới: ${vnTime(a.start!)}`, `/visits/${a.id}`);
      await this.record(q, ctx, 'book', input.patientId, { type: 'Appointment', id: a.id! }, { slot: slot.id, listVersion: decision.listVersion, confirmed: decision.confirmed });
      return a;
    });
    await this.bus.publish({ kind: 'visit.booked', to: { practitionerIds: [idOf(practitionerRef, 'Practitioner')!] }, data: { id: appointment.id! } }).catch(() => undefined);
    return { appointment, eligibility: decision, bookingCode };
  }

  /** Marks a slot taken, inside the booking transaction; a second booking of it, or one overlapping another visit of the same person, fails with 409. */
  private async claimSlot(q: Queryable, slot: Slot, appointmentId: string, patientId: string, ctx: AccessContext): Promise<void> {
    if (slot.status !== 'free') throw conflict('Giờ khám này vừa có người đặt; hãy chọn giờ khác (this slot was just taken: pick another)');
    // One person, one examination at a time. The per-patient lock makes two simultaneous bookings
    // of overlapping slots for the same person take turns, so the second sees the first.
    await q.query("SELECT pg_advisory_xact_lock(hashtext('visit-booking:' || $1::text))", [patientId]);
    const clash = await q.query<{ starts_at: Date }>('SELECT starts_at FROM slot_booking WHERE patient_id = $1 AND starts_at < $3 AND ends_at > $2 LIMIT 1', [patientId, slot.start, slot.end]);
    if (clash.rows.length) {
      const at = vnTime(new Date(clash.rows[0].starts_at).toISOString());
      throw conflict(`Người bệnh đã có lịch khám từ xa lúc ${at}, trùng giờ này; hãy chọn giờ khác hoặc hủy lịch kia (already booked for a visit at ${at} that overlaps this time)`);
    }
    try {
      await q.query('INSERT INTO slot_booking (slot_id, appointment_id, patient_id, booked_by, starts_at, ends_at) VALUES ($1, $2, $3, $4, $5, $6)', [slot.id, appointmentId, patientId, ctx.actor.accountId ?? 'system', slot.start, slot.end]);
    } catch (err) {
      if ((err as { code?: string }).code === '23505') throw conflict('Giờ khám này vừa có người đặt; hãy chọn giờ khác (this slot was just taken: pick another)');
      throw err;
    }
    await this.fhir.repo.update<Slot>({ ...slot, status: 'busy' }, { ifMatch: `W/"${slot.meta?.versionId}"` }, q);
  }

  private async releaseSlot(q: Queryable, slotId: string): Promise<void> {
    await q.query('DELETE FROM slot_booking WHERE slot_id = $1', [slotId]);
    const slot = (await this.fhir.repo.tryRead<Slot>('Slot', slotId, q)) as Slot | undefined;
    if (slot && slot.status !== 'free') await this.fhir.repo.update<Slot>({ ...slot, status: 'free' }, {}, q);
  }

  /** An SMS an hour before (to the patient's phone, else the booker's), and an email when known. */
  private async remind(q: Queryable, a: Appointment, patient: Patient, ctx: AccessContext): Promise<void> {
    let phone = patient.telecom?.find((t) => t.system === 'phone')?.value;
    if (!phone && ctx.actor.patientId && ctx.actor.patientId !== patient.id) {
      const booker = (await this.fhir.repo.tryRead<Patient>('Patient', ctx.actor.patientId, q)) as Patient | undefined;
      phone = booker?.telecom?.find((t) => t.system === 'phone')?.value;
    }
    if (!phone) return;
    const at = new Date(new Date(a.start!).getTime() - 60 * 60_000);
    await enqueueMessage(q, {
      channel: 'sms',
      recipient: phone,
      subject: 'Nhắc lịch khám từ xa',
      body: `Cau Y Te: lich kham tu xa luc ${vnTime(a.start!)}. Vao phong cho: ${this.baseUrl}/me/visits/${a.id}`,
      sendAfter: at > new Date() ? at : new Date(),
      dedupeKey: `visit-reminder:${a.id}:${a.start}`,
    });
  }

  /** An appointment that is a remote examination, read with the caller's access checked and audited. */
  private async visitAppointment(ctx: AccessContext, id: string, q?: Queryable): Promise<{ a: Appointment; patientId: string; practitionerId?: string }> {
    const a = (await this.fhir.read('Appointment', id, q, ctx)) as Appointment;
    if (!a.serviceCategory?.some((c) => c.coding?.some((x) => x.code === SERVICE_CATEGORY.code))) throw notFound(`Lịch ${id} không phải lịch khám từ xa (not a remote examination)`);
    const patientId = a.participant.map((p) => idOf(p.actor, 'Patient')).find(Boolean)!;
    const practitionerId = a.participant.map((p) => idOf(p.actor, 'Practitioner')).find(Boolean);
    return { a, patientId, practitionerId };
  }

  private assertParty(ctx: AccessContext, v: { patientId: string; practitionerId?: string }, managed: boolean): void {
    if (ctx.actor.via === 'test') return;
    if (ctx.actor.role === 'citizen' && (v.patientId === ctx.actor.patientId || managed)) return;
    if (ctx.actor.practitionerId && ctx.actor.practitionerId === v.practitionerId) return;
    throw new AccessDenied('Chỉ người bệnh (hoặc người thân quản lý) và bác sĩ của lịch này (only the patient, their family manager, or the visit’s clinician)');
  }

  private async managedBy(ctx: AccessContext, patientId: string): Promise<boolean> {
    if (ctx.actor.role !== 'citizen' || !ctx.actor.patientId || ctx.actor.patientId === patientId) return false;
    return (await familyLink(this.db, ctx.actor.patientId, patientId)) !== undefined;
  }

  async cancel(ctx: AccessContext, id: string, reason: string): Promise<Appointment> {
    return this.db.transaction(async (q) => {
      const v = await this.visitAppointment(ctx, id, q);
      this.assertParty(ctx, v, await this.managedBy(ctx, v.patientId));
      if (v.a.status !== 'booked') throw conflict(`Lịch đang ở trạng thái ${v.a.status}, không hủy được (cannot cancel a ${v.a.status} visit)`);
      for (const s of v.a.slot ?? []) await this.releaseSlot(q, idOf(s, 'Slot')!);
      await cancelMessage(q, `visit-reminder:${id}:${v.a.start}`);
      const updated = (await this.fhir.repo.update<Appointment>({ ...v.a, status: 'cancelled', cancelationReason: { text: reason } }, { ifMatch: `W/"${v.a.meta?.versionId}"` }, q)).resource;
      await this.record(q, ctx, 'cancel', v.patientId, { type: 'Appointment', id }, { reason: reason.slice(0, 200) });
      return updated;
    });
  }

  async reschedule(ctx: AccessContext, id: string, slotId: string): Promise<Appointment> {
    return this.db.transaction(async (q) => {
      const v = await this.visitAppointment(ctx, id, q);
      this.assertParty(ctx, v, await this.managedBy(ctx, v.patientId));
      if (v.a.status !== 'booked') throw conflict(`Lịch đang ở trạng thái ${v.a.status}, không đổi giờ được (cannot move a ${v.a.status} visit)`);
      const slot = (await this.fhir.repo.tryRead<Slot>('Slot', slotId, q)) as Slot | undefined;
      if (!slot) throw notFound(`Không có giờ khám ${slotId}`);
      if (new Date(slot.start).getTime() <= Date.now()) throw businessRule('Giờ khám này đã qua (this time has passed)');
      const schedule = (await this.fhir.repo.read('Schedule', slot.schedule.reference!.split('/')[1], q)) as Schedule;
      const serviceRef = v.a.supportingInformation?.find((r) => r.reference?.startsWith('HealthcareService/'))?.reference;
      if (!schedule.actor.some((x) => x.reference === serviceRef)) throw badRequest('Giờ mới phải cùng dịch vụ (the new slot must be for the same service)');
      // The booking row moves in the same transaction: the old slot is free again only if the new one is ours.
      await q.query('DELETE FROM slot_booking WHERE appointment_id = $1', [id]);
      await this.claimSlot(q, slot, id, v.patientId, ctx);
      for (const s of v.a.slot ?? []) await this.releaseSlot(q, idOf(s, 'Slot')!);
      await cancelMessage(q, `visit-reminder:${id}:${v.a.start}`);
      const pr = schedule.actor.find((x) => x.reference?.startsWith('Practitioner/'))!;
      const participant = v.a.participant.map((p) => (p.actor?.reference?.startsWith('Practitioner/') ? { ...p, actor: { reference: pr.reference, display: pr.display } } : p));
      const updated = (await this.fhir.repo.update<Appointment>({ ...v.a, start: slot.start, end: slot.end, slot: [{ reference: `Slot/${slot.id}` }], participant }, { ifMatch: `W/"${v.a.meta?.versionId}"` }, q)).resource;
      const patient = (await this.fhir.repo.read('Patient', v.patientId, q)) as Patient;
      await this.remind(q, updated, patient, ctx);
      await this.record(q, ctx, 'reschedule', v.patientId, { type: 'Appointment', id }, { from: v.a.start, to: slot.start });
      return updated;
    });
  }

  /** A citizen's visits: their own and their managed family members'. */
  async mine(ctx: AccessContext): Promise<unknown[]> {
    const family = await this.family(ctx);
    const out: unknown[] = [];
    for (const m of family) {
      const b = await this.fhir.searchBundle('Appointment', new URLSearchParams({ patient: `Patient/${m.patientId}`, 'service-category': CATEGORY_QUERY, _sort: '-date', _count: '100' }), undefined, {}, ctx);
      for (const e of b.entry ?? []) out.push({ ...summary(e.resource as Appointment), for: { patientId: m.patientId, name: m.name, self: m.self } });
    }
    return out.sort((a, b) => String((b as { start: string }).start).localeCompare(String((a as { start: string }).start)));
  }

  /** The clinician's queue: their visits from `from` for `days` days, with who is waiting in the room's lobby. */
  async queue(ctx: AccessContext, from: Date, days: number, waiting: (appointmentId: string) => number): Promise<unknown[]> {
    if (!ctx.actor.practitionerId) throw new AccessDenied('Tài khoản không gắn với bác sĩ (your account is not a practitioner)');
    const until = new Date(from.getTime() + days * 86_400_000);
    const b = await this.fhir.searchBundle('Appointment', new URLSearchParams([['practitioner', `Practitioner/${ctx.actor.practitionerId}`], ['service-category', CATEGORY_QUERY], ['date', `ge${from.toISOString()}`], ['date', `lt${until.toISOString()}`], ['_sort', 'date'], ['_count', '200']]), undefined, {}, ctx);
    return (b.entry ?? []).map((e) => {
      const a = e.resource as Appointment;
      return { ...summary(a), waiting: waiting(a.id!) };
    });
  }

  /** One visit with what the clinician (or the citizen) needs: answers, and after the visit its note and prescription. */
  async view(ctx: AccessContext, id: string): Promise<Record<string, unknown>> {
    const v = await this.visitAppointment(ctx, id);
    this.assertParty(ctx, v, await this.managedBy(ctx, v.patientId));
    const qrId = idOf(v.a.supportingInformation?.find((r) => r.reference?.startsWith('QuestionnaireResponse/')), 'QuestionnaireResponse');
    const qr = qrId ? ((await this.fhir.repo.tryRead<QuestionnaireResponse>('QuestionnaireResponse', qrId)) as QuestionnaireResponse | undefined) : undefined;
    const patient = (await this.fhir.repo.read('Patient', v.patientId)) as Patient;
    const encounter = ((await this.fhir.conditionalMatches(this.db, 'Encounter', new URLSearchParams({ appointment: `Appointment/${id}` }))) as Encounter[])[0];
    const outputs = encounter ? await this.outputs(encounter.id!) : undefined;
    return {
      ...summary(v.a),
      patient: { id: patient.id, name: personName(patient), birthDate: patient.birthDate, gender: patient.gender, bhytCard: identifier(patient, BHYT_SYSTEM) },
      answers: (qr?.item ?? []).map((i) => ({ linkId: i.linkId, text: i.text, answer: answerText(qr, i.linkId) })),
      homeBp: answerText(qr, 'home-bp'),
      encounterId: encounter?.id,
      ...outputs,
    };
  }

  private async outputs(encounterId: string) {
    const q = new URLSearchParams({ encounter: `Encounter/${encounterId}` });
    const [notes, meds, conditions, observations, charges] = await Promise.all([
      this.fhir.conditionalMatches(this.db, 'Composition', q),
      this.fhir.conditionalMatches(this.db, 'MedicationRequest', q),
      this.fhir.conditionalMatches(this.db, 'Condition', q),
      this.fhir.conditionalMatches(this.db, 'Observation', q),
      this.fhir.conditionalMatches(this.db, 'ChargeItem', new URLSearchParams({ context: `Encounter/${encounterId}` })),
    ]);
    const note = notes[0] as Composition | undefined;
    const rx = (meds as MedicationRequest[]).sort((a, b) => (a.identifier?.[0]?.value ?? '').localeCompare(b.identifier?.[0]?.value ?? ''));
    return {
      note: note && { id: note.id, date: note.date, sections: note.section?.map((s) => ({ title: s.title, text: narrativeText(s.text?.div ?? '') })) },
      diagnosis: (conditions as Condition[]).map((c) => ({ code: c.code?.coding?.[0]?.code, display: c.code?.coding?.[0]?.display ?? c.code?.text })),
      reported: (observations as Observation[]).map((o) => ({ code: o.code.coding?.[0]?.code, text: o.code.text, value: obsText(o) })),
      prescription: rx.length ? { code: rx[0].groupIdentifier?.value, items: rx.map((m) => ({ name: m.medicationCodeableConcept?.text, drugCode: m.medicationCodeableConcept?.coding?.[0]?.code, dosage: m.dosageInstruction?.[0]?.text, quantity: m.dispenseRequest?.quantity?.value, unit: m.dispenseRequest?.quantity?.unit, days: m.dispenseRequest?.expectedSupplyDuration?.value })) } : undefined,
      charge: (charges as ChargeItem[])[0] && chargeSummary((charges as ChargeItem[])[0]),
    };
  }

  /** The end of the visit: everything the clinician wrote, in one transaction. */
  async complete(ctx: AccessContext, id: string, input: CompleteInput): Promise<{ encounterId: string; prescriptionCode?: string }> {
    const result = await this.db.transaction(async (q) => {
      const v = await this.visitAppointment(ctx, id, q);
      if (ctx.actor.via !== 'test' && ctx.actor.practitionerId !== v.practitionerId) throw new AccessDenied('Chỉ bác sĩ của lịch khám này ghi kết quả (only the visit’s clinician)');
      if (v.a.status !== 'booked' && v.a.status !== 'arrived' && v.a.status !== 'checked-in') throw conflict(`Lịch khám đang ở trạng thái ${v.a.status} (already ${v.a.status})`);
      const patient = (await this.fhir.repo.read('Patient', v.patientId, q)) as Patient;
      const serviceId = idOf(v.a.supportingInformation?.find((r) => r.reference?.startsWith('HealthcareService/')), 'HealthcareService')!;
      const service = serviceInfo((await this.fhir.repo.read('HealthcareService', serviceId, q)) as HealthcareService);
      const org = (await this.fhir.repo.read('Organization', service.organizationId, q)) as Organization;
      const practitionerRef = { reference: `Practitioner/${v.practitionerId}`, display: v.a.participant.find((p) => p.actor?.reference === `Practitioner/${v.practitionerId}`)?.actor?.display };
      const now = new Date().toISOString();
      const subject = { reference: `Patient/${v.patientId}`, display: personName(patient) };
      const encounterId = randomUUID();
      const enc = { reference: `Encounter/${encounterId}` };
      const conditionId = randomUUID();
      const diagnosis = { system: ICD10_SYSTEM, code: input.diagnosis.code, ...(input.diagnosis.display ? { display: input.diagnosis.display } : {}) };
      const resources: Resource[] = [];
      resources.push({
        resourceType: 'Encounter',
        id: encounterId,
        status: 'finished',
        class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'VR', display: 'virtual' },
        type: v.a.serviceType,
        serviceType: v.a.serviceType?.[0],
        subject,
        participant: [{ individual: practitionerRef }],
        appointment: [{ reference: `Appointment/${id}` }],
        period: { start: v.a.start && v.a.start < now ? v.a.start : now, end: now },
        reasonCode: v.a.reasonCode,
        diagnosis: [{ condition: { reference: `Condition/${conditionId}` }, rank: 1 }],
        serviceProvider: { reference: `Organization/${org.id}`, display: org.name },
      } as Encounter);
      resources.push({
        resourceType: 'Condition',
        id: conditionId,
        clinicalStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-clinical', code: 'active' }] },
        verificationStatus: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-ver-status', code: 'confirmed' }] },
        category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/condition-category', code: 'encounter-diagnosis', display: 'Chẩn đoán lần khám' }] }],
        code: { coding: [diagnosis], text: input.diagnosis.display ?? input.diagnosis.code },
        subject,
        encounter: enc,
        recordedDate: now,
        recorder: practitionerRef,
      } as Condition);
      resources.push(...reportedObservations(input.reported ?? {}, subject, enc, now));
      const followUp = input.followUpDays ? `Tái khám sau ${input.followUpDays} ngày` : undefined;
      resources.push({
        resourceType: 'Composition',
        status: 'final',
        type: { coding: [{ system: LOINC, code: '11506-3', display: 'Progress note' }], text: 'Phiếu khám bệnh từ xa' },
        subject,
        encounter: enc,
        date: now,
        author: [practitionerRef],
        title: `Phiếu khám bệnh từ xa — ${service.name}`,
        custodian: { reference: `Organization/${org.id}`, display: org.name },
        section: [
          { title: 'Lý do khám', text: { status: 'generated', div: htmlDiv(v.a.reasonCode?.[0]?.text ?? '') } },
          { title: 'Khám và nhận định', text: { status: 'generated', div: htmlDiv(`${input.findings}\n${input.assessment}`) } },
          { title: 'Chẩn đoán', text: { status: 'generated', div: htmlDiv(`${input.diagnosis.code} ${input.diagnosis.display ?? ''}`.trim()) } },
          { title: 'Hướng dẫn và theo dõi', text: { status: 'generated', div: htmlDiv([input.instructions, followUp].filter(Boolean).join('\n')) } },
        ],
      } as Composition);
      let code: string | undefined;
      if (input.prescription?.items.length) {
        code = prescriptionCode(facilityCode(org.id!, org.identifier?.find((i) => i.system?.endsWith('/facility-code'))?.value));
        input.prescription.items.forEach((it, i) => {
          resources.push({
            resourceType: 'MedicationRequest',
            identifier: [{ system: PRESCRIPTION_SYSTEM, value: `${code}/${i + 1}` }],
            groupIdentifier: { system: PRESCRIPTION_SYSTEM, value: code },
            status: 'active',
            intent: 'order',
            category: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/medicationrequest-category', code: 'outpatient', display: 'Ngoại trú' }] }],
            medicationCodeableConcept: { ...(it.drugCode ? { coding: [{ system: DRUG_REGISTRATION_SYSTEM, code: it.drugCode, display: it.name }] } : {}), text: it.name },
            subject,
            encounter: enc,
            authoredOn: now,
            requester: practitionerRef,
            reasonCode: [{ coding: [diagnosis] }],
            dosageInstruction: [{ sequence: 1, text: it.dosage }],
            dispenseRequest: { quantity: { value: it.quantity, unit: it.unit }, ...(it.days ? { expectedSupplyDuration: { value: it.days, unit: 'ngày', system: UCUM, code: 'd' } } : {}) },
            ...(input.prescription!.advice ? { note: [{ text: input.prescription!.advice }] } : {}),
          } as MedicationRequest);
        });
      }
      const card = input.bhytCard ?? identifier(patient, BHYT_SYSTEM);
      const insured = input.useInsurance && service.bhytCovered && !!card;
      if (input.useInsurance && service.bhytCovered && !card) throw badRequest('Không có mã thẻ BHYT để thanh toán bảo hiểm (no BHYT card to bill)');
      resources.push({
        resourceType: 'ChargeItem',
        status: 'billable',
        code: v.a.serviceType?.[0] ?? { text: service.name },
        subject,
        context: enc,
        occurrenceDateTime: now,
        performingOrganization: { reference: `Organization/${org.id}`, display: org.name },
        enterer: practitionerRef,
        enteredDate: now,
        quantity: { value: 1 },
        priceOverride: { value: service.price, currency: 'VND' },
        extension: [
          { url: PAYER_EXT, valueCode: insured ? 'bhyt' : 'self' },
          ...(insured ? [{ url: BHYT_CARD_EXT, valueIdentifier: { system: BHYT_SYSTEM, value: card } }] : []),
        ],
      } as ChargeItem);
      // The Condition and the Encounter get their ids first (they point at each other); then the rest.
      for (const r of resources.filter((x) => x.id).reverse()) await this.fhir.repo.update(r, {}, q);
      await this.fhir.repo.createMany(resources.filter((r) => !r.id), q);
      await this.fhir.repo.update<Appointment>({ ...v.a, status: 'fulfilled' }, { ifMatch: `W/"${v.a.meta?.versionId}"` }, q);
      await this.record(q, ctx, 'complete', v.patientId, { type: 'Encounter', id: encounterId }, { appointment: id, prescription: code, items: input.prescription?.items.length ?? 0 });
      return { encounterId, prescriptionCode: code, practitionerId: v.practitionerId! };
    });
    await this.bus.publish({ kind: 'visit.completed', to: { practitionerIds: [result.practitionerId] }, data: { id } }).catch(() => undefined);
    return { encounterId: result.encounterId, prescriptionCode: result.prescriptionCode };
  }

  /** The items of a prescription, by its code (no access check: callers decide what to reveal). */
  async prescriptionItems(code: string): Promise<MedicationRequest[]> {
    const first = (await this.fhir.conditionalMatches(this.db, 'MedicationRequest', new URLSearchParams({ identifier: `${PRESCRIPTION_SYSTEM}|${code}/1` }))) as MedicationRequest[];
    if (!first[0]?.encounter?.reference) return [];
    const all = (await this.fhir.conditionalMatches(this.db, 'MedicationRequest', new URLSearchParams({ encounter: first[0].encounter.reference }))) as MedicationRequest[];
    return all.filter((m) => m.groupIdentifier?.value === code).sort((a, b) => Number(a.identifier?.[0]?.value?.split('/')[1]) - Number(b.identifier?.[0]?.value?.split('/')[1]));
  }

  /** Everything the printable prescription shows, read with the caller's access checked. */
  async prescription(ctx: AccessContext, code: string): Promise<PrescriptionDoc> {
    const meds = await this.prescriptionItems(code);
    if (!meds[0]) throw notFound(`Không có đơn thuốc ${code} (no such prescription)`);
    const patientId = idOf(meds[0].subject, 'Patient')!;
    const patient = (await this.fhir.read('Patient', patientId, undefined, ctx)) as Patient;
    const all = meds;
    const encounter = (await this.fhir.repo.read('Encounter', meds[0].encounter!.reference!.split('/')[1])) as Encounter;
    const org = (await this.fhir.repo.read('Organization', idOf(encounter.serviceProvider, 'Organization')!)) as Organization;
    const prac = (await this.fhir.repo.tryRead<Practitioner>('Practitioner', idOf(meds[0].requester, 'Practitioner') ?? '')) as Practitioner | undefined;
    const note = ((await this.fhir.conditionalMatches(this.db, 'Composition', new URLSearchParams({ encounter: `Encounter/${encounter.id}` }))) as Composition[])[0];
    const instructions = note?.section?.find((s) => s.title === 'Hướng dẫn và theo dõi');
    const address = (a?: { text?: string; line?: string[]; city?: string }) => a?.text ?? [...(a?.line ?? []), a?.city].filter(Boolean).join(', ');
    if (ctx.actor.via !== 'test') await this.audit.record({ ...actorFields(ctx), action: 'export', outcome: 'success', resourceType: 'MedicationRequest', resourceId: meds[0].id, patientIds: [patientId], detail: { prescription: code } });
    const dx = meds[0].reasonCode?.[0]?.coding?.[0];
    const lines = narrativeText(instructions?.text?.div ?? '').split('\n');
    return {
      code,
      issuedAt: meds[0].authoredOn!,
      facility: { name: org.name ?? '', address: address(org.address?.[0]), phone: org.telecom?.find((t) => t.system === 'phone')?.value },
      prescriber: { name: personName(prac) || meds[0].requester?.display || '', qualification: prac?.qualification?.[0]?.code?.text },
      patient: { name: personName(patient), birthDate: patient.birthDate, gender: patient.gender, address: address(patient.address?.[0]), bhytCard: identifier(patient, BHYT_SYSTEM), cccd: identifier(patient, CCCD_SYSTEM) },
      diagnosis: dx ? `${dx.code}${dx.display ? ` — ${dx.display}` : ''}` : '',
      items: all.map((m) => ({ name: m.medicationCodeableConcept?.text ?? '', drugCode: m.medicationCodeableConcept?.coding?.[0]?.code, quantity: m.dispenseRequest?.quantity?.value ?? 0, unit: m.dispenseRequest?.quantity?.unit ?? '', dosage: m.dosageInstruction?.[0]?.text ?? '', days: m.dispenseRequest?.expectedSupplyDuration?.value })),
      advice: meds[0].note?.[0]?.text ?? lines.filter((l) => !l.startsWith('Tái khám')).join(' '),
      followUp: lines.find((l) => l.startsWith('Tái khám'))?.replace(/^Tái khám\s*/, ''),
      verifyUrl: `${this.baseUrl}/rx/${code}`,
    };
  }

  /** The day's charges of a facility (a documented export: docs/visits.md). */
  async charges(ctx: AccessContext, date: string, organizationId?: string): Promise<ChargeRow[]> {
    const orgId = organizationId ?? ctx.actor.organizationId;
    if (!orgId) throw badRequest('organizationId is required');
    if (ctx.actor.via !== 'test' && orgId !== ctx.actor.organizationId) throw new AccessDenied('Chỉ xuất chi phí của cơ sở mình (only your own facility’s charges)');
    const from = localInstant(date, '00:00');
    const to = new Date(new Date(from).getTime() + 86_400_000).toISOString();
    const items = (await this.fhir.conditionalMatches(this.db, 'ChargeItem', new URLSearchParams([['performing-organization', `Organization/${orgId}`], ['occurrence', `ge${from}`], ['occurrence', `lt${to}`], ['_count', '5000']]))) as ChargeItem[];
    const rows: ChargeRow[] = [];
    for (const c of items) {
      const s = chargeSummary(c);
      rows.push({ chargeId: c.id!, occurredAt: c.occurrenceDateTime!, facilityId: orgId, patientId: idOf(c.subject, 'Patient')!, patientName: c.subject.display ?? '', serviceCode: s.serviceCode ?? '', serviceName: s.serviceName ?? '', priceVnd: s.price, payer: s.payer, bhytCard: s.bhytCard ?? '', encounterId: idOf(c.context, 'Encounter') ?? '', practitionerId: idOf(c.enterer, 'Practitioner') ?? '' });
    }
    rows.sort((a, b) => a.occurredAt.localeCompare(b.occurredAt));
    if (ctx.actor.via !== 'test') await this.audit.record({ ...actorFields(ctx), action: 'export', outcome: 'success', resourceType: 'ChargeItem', patientIds: [...new Set(rows.map((r) => r.patientId))], detail: { charges: date, n: rows.length } });
    return rows;
  }

  /** The citizen and the family members whose records they manage. */
  async family(ctx: AccessContext): Promise<{ patientId: string; name: string; birthDate?: string; relation?: string; self: boolean; linkId?: string }[]> {
    const self = ctx.actor.patientId;
    if (!self) return [];
    const me = (await this.fhir.repo.tryRead<Patient>('Patient', self)) as Patient | undefined;
    const out: { patientId: string; name: string; birthDate?: string; relation?: string; self: boolean; linkId?: string }[] = [{ patientId: self, name: personName(me), birthDate: me?.birthDate, self: true }];
    const links = (await this.db.query<{ id: string; patient_id: string; relationship: FamilyRelation }>('SELECT id, patient_id, relationship FROM family_link WHERE manager_patient_id = $1 AND revoked_at IS NULL ORDER BY created_at', [self])).rows;
    for (const l of links) {
      const p = (await this.fhir.repo.tryRead<Patient>('Patient', l.patient_id)) as Patient | undefined;
      if (p) out.push({ patientId: l.patient_id, name: personName(p), birthDate: p.birthDate, relation: FAMILY_RELATIONS[l.relationship]?.member, self: false, linkId: l.id });
    }
    return out;
  }

  /** The Patient with this CCCD number (404 when none; the access check happens on use). */
  async patientByCccd(cccd: string): Promise<string> {
    const found = await this.fhir.conditionalMatches(this.db, 'Patient', new URLSearchParams({ identifier: `${CCCD_SYSTEM}|${cccd}` }));
    if (!found[0]) throw notFound(`Không có người dân với số CCCD ${cccd} (no patient with this citizen ID)`);
    return found[0].id!;
  }

  /**
   * Staff record that a citizen manages a family member's record, after seeing the proof (birth
   * certificate, household book, guardianship decision). The RelatedPerson is the manager, as seen
   * from the member's record.
   */
  async linkFamily(ctx: AccessContext, input: { managerPatientId: string; patientId: string; relationship: FamilyRelation; proof: string }): Promise<{ id: string; relatedPersonId: string }> {
    if (input.managerPatientId === input.patientId) throw badRequest('Người quản lý và người thân phải khác nhau (manager and member must differ)');
    const manager = (await this.fhir.read('Patient', input.managerPatientId, undefined, ctx)) as Patient;
    await this.fhir.read('Patient', input.patientId, undefined, ctx);
    const rel = FAMILY_RELATIONS[input.relationship];
    return this.db.transaction(async (q) => {
      const dup = await q.query('SELECT 1 FROM family_link WHERE manager_patient_id = $1 AND patient_id = $2 AND revoked_at IS NULL', [input.managerPatientId, input.patientId]);
      if (dup.rows.length) throw conflict('Quan hệ này đã được ghi nhận (already recorded)');
      const rp = await this.fhir.repo.create<RelatedPerson>({
        resourceType: 'RelatedPerson',
        active: true,
        patient: { reference: `Patient/${input.patientId}` },
        relationship: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-RoleCode', code: rel.code, display: rel.display }], text: rel.display }],
        name: manager.name,
        telecom: manager.telecom,
        identifier: manager.identifier?.filter((i) => i.system === CCCD_SYSTEM),
        extension: [
          { url: MANAGER_EXT, valueReference: { reference: `Patient/${manager.id}`, display: personName(manager) } },
          { url: PROOF_EXT, valueString: `${input.proof} — xác minh bởi ${ctx.actor.displayName ?? ctx.actor.username ?? 'cán bộ'}` },
        ],
      }, q);
      const id = randomUUID();
      await q.query('INSERT INTO family_link (id, manager_patient_id, patient_id, related_person_id, relationship, proof, recorded_by) VALUES ($1, $2, $3, $4, $5, $6, $7)', [
        id, input.managerPatientId, input.patientId, rp.id, input.relationship, input.proof, ctx.actor.accountId ?? 'system',
      ]);
      await this.record(q, ctx, 'family-link', input.patientId, { type: 'RelatedPerson', id: rp.id! }, { manager: input.managerPatientId, relationship: input.relationship });
      return { id, relatedPersonId: rp.id! };
    });
  }

  async revokeFamily(ctx: AccessContext, linkId: string): Promise<void> {
    await this.db.transaction(async (q) => {
      const l = (await q.query<{ manager_patient_id: string; patient_id: string; related_person_id: string }>('SELECT manager_patient_id, patient_id, related_person_id FROM family_link WHERE id = $1 AND revoked_at IS NULL', [linkId])).rows[0];
      if (!l) throw notFound('Không có quan hệ này (no such link)');
      // The manager may give up the role; staff who can reach the member's record may end it.
      if (ctx.actor.role === 'citizen') {
        if (l.manager_patient_id !== ctx.actor.patientId) throw new AccessDenied('Không phải quan hệ của bạn (not your link)');
      } else await this.fhir.read('Patient', l.patient_id, q, ctx);
      await q.query('UPDATE family_link SET revoked_at = now() WHERE id = $1', [linkId]);
      const rp = (await this.fhir.repo.tryRead<RelatedPerson>('RelatedPerson', l.related_person_id, q)) as RelatedPerson | undefined;
      if (rp) await this.fhir.repo.update<RelatedPerson>({ ...rp, active: false }, {}, q);
      await this.record(q, ctx, 'family-unlink', l.patient_id, { type: 'RelatedPerson', id: l.related_person_id });
    });
  }
}

export interface ChargeRow {
  chargeId: string;
  occurredAt: string;
  facilityId: string;
  patientId: string;
  patientName: string;
  serviceCode: string;
  serviceName: string;
  priceVnd: number;
  payer: 'bhyt' | 'self';
  bhytCard: string;
  encounterId: string;
  practitionerId: string;
}

export const CHARGE_COLUMNS: (keyof ChargeRow)[] = ['chargeId', 'occurredAt', 'facilityId', 'patientId', 'patientName', 'serviceCode', 'serviceName', 'priceVnd', 'payer', 'bhytCard', 'encounterId', 'practitionerId'];

export function chargesCsv(rows: ChargeRow[]): string {
  const cell = (v: unknown) => {
    const s = String(v ?? '');
    return /[",\r\n]/.test(s) || /^[=+\-@]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s; // quoted; formula-looking cells too
  };
  return [CHARGE_COLUMNS.join(','), ...rows.map((r) => CHARGE_COLUMNS.map((c) => cell(r[c])).join(','))].join('\r\n') + '\r\n';
}

function chargeSummary(c: ChargeItem) {
  return {
    serviceCode: c.code?.coding?.[0]?.code,
    serviceName: c.code?.coding?.[0]?.display ?? c.code?.text,
    price: c.priceOverride?.value ?? 0,
    payer: (c.extension?.find((e) => e.url === PAYER_EXT)?.valueCode ?? 'self') as 'bhyt' | 'self',
    bhytCard: c.extension?.find((e) => e.url === BHYT_CARD_EXT)?.valueIdentifier?.value,
  };
}

function summary(a: Appointment) {
  const patient = a.participant.find((p) => p.actor?.reference?.startsWith('Patient/'))?.actor;
  const prac = a.participant.find((p) => p.actor?.reference?.startsWith('Practitioner/'))?.actor;
  return {
    id: a.id,
    status: a.status,
    start: a.start,
    end: a.end,
    bookingCode: a.identifier?.find((i) => i.system === BOOKING_SYSTEM)?.value,
    service: a.serviceType?.[0]?.text,
    reason: a.reasonCode?.[0]?.text,
    icd10: a.reasonCode?.[0]?.coding?.[0]?.code,
    icd10Display: a.reasonCode?.[0]?.coding?.[0]?.display,
    eligibility: a.comment,
    patient: { id: idOf(patient, 'Patient'), name: patient?.display },
    practitioner: { id: idOf(prac, 'Practitioner'), name: prac?.display },
    cancelReason: a.cancelationReason?.text,
  };
}


function obsText(o: Observation): string {
  if (o.component?.length) return o.component.map((c) => c.valueQuantity?.value).join('/') + ` ${o.component[0].valueQuantity?.unit ?? ''}`.trimEnd();
  return `${o.valueQuantity?.value ?? ''} ${o.valueQuantity?.unit ?? ''}`.trim();
}

function vnTime(iso: string): string {
  return new Intl.DateTimeFormat('vi-VN', { timeZone: 'Asia/Ho_Chi_Minh', hour: '2-digit', minute: '2-digit', day: '2-digit', month: '2-digit', year: 'numeric' }).format(new Date(iso));
}

/** What the patient reported at the visit, as vital-sign Observations performed by the patient. */
function reportedObservations(r: NonNullable<CompleteInput['reported']>, subject: Reference<Patient>, encounter: Reference<Encounter>, now: string): Observation[] {
  const base = (code: string, display: string, text: string): Observation => ({
    resourceType: 'Observation',
    status: 'final',
    category: [{ coding: [VITALS] }],
    code: { coding: [{ system: LOINC, code, display }], text },
    subject,
    encounter,
    effectiveDateTime: now,
    performer: [subject],
    note: [{ text: 'Người bệnh tự đo, báo trong buổi khám từ xa (patient-reported)' }],
  });
  const q = (value: number, unit: string, code: string) => ({ value, unit, system: UCUM, code });
  const out: Observation[] = [];
  if (r.systolic !== undefined && r.diastolic !== undefined) {
    out.push({
      ...base('85354-9', 'Blood pressure panel with all children optional', 'Huyết áp'),
      component: [
        { code: { coding: [{ system: LOINC, code: '8480-6', display: 'Systolic blood pressure' }], text: 'Tâm thu' }, valueQuantity: q(r.systolic, 'mmHg', 'mm[Hg]') },
        { code: { coding: [{ system: LOINC, code: '8462-4', display: 'Diastolic blood pressure' }], text: 'Tâm trương' }, valueQuantity: q(r.diastolic, 'mmHg', 'mm[Hg]') },
      ],
    });
  }
  if (r.heartRate !== undefined) out.push({ ...base('8867-4', 'Heart rate', 'Mạch'), valueQuantity: q(r.heartRate, '/min', '/min') });
  if (r.weightKg !== undefined) out.push({ ...base('29463-7', 'Body weight', 'Cân nặng'), valueQuantity: q(r.weightKg, 'kg', 'kg') });
  if (r.temperatureC !== undefined) out.push({ ...base('8310-5', 'Body temperature', 'Nhiệt độ'), valueQuantity: q(r.temperatureC, '°C', 'Cel') });
  return out;
}
