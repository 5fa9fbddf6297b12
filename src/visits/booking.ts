/**
 * Booking a remote examination, and cancelling or moving it: eligibility (Circular 30/2023), the
 * pre-visit answers, then in one unit of work the slot claimed, the QuestionnaireResponse and the
 * Appointment written, the reminder queued and the clinician notified.
 *
 * Rules:
 *   - a citizen books for themselves or a family member they manage (family domain), and only the
 *     visit's parties cancel or move it; the repository (`visits.book`) adds patient reach and audit;
 *   - `slot_booking`'s primary key lets exactly one of two simultaneous bookings of a slot commit;
 *     a per-patient advisory lock keeps one person to one visit at a time (overlaps are 409);
 *   - a booked Slot and the booking's Appointment change only here (rules.ts refuses plain FHIR);
 *   - each unit records its action: `visit.book`, `visit.cancel`, `visit.reschedule`.
 */
import { randomUUID } from 'node:crypto';
import type { Appointment, HealthcareService, Patient, QuestionnaireResponse, Schedule, Slot } from '@medplum/fhirtypes';
import { AccessDenied } from '../auth/access.ts';
import type { AccessContext } from '../auth/actor.ts';
import type { EligibilityDecision, EligibilityService } from '../consult/eligibility.ts';
import type { EventBus } from '../events/bus.ts';
import { addNotification } from '../events/outbox.ts';
import type { FamilyService } from '../family/service.ts';
import { badRequest, businessRule, conflict, notFound } from '../fhir/outcome.ts';
import type { Repository } from '../fhir/repository.ts';
import type { FhirStore } from '../fhir/store.ts';
import { ICD10_SYSTEM } from '../terminology/icd10.ts';
import { answerItems, type Catalog, serviceInfo } from './catalog.ts';
import type { BookingRequest, MyVisit } from './contract.ts';
import {
  BOOKING_SYSTEM,
  CATEGORY_QUERY,
  idOf,
  personName,
  PRE_VISIT_URL,
  SERVICE_CATEGORY,
  SERVICE_TYPE_SYSTEM,
  serviceIdOf,
  visitSummary,
  vnTime,
} from './model.ts';
import { remindVisit, withdrawReminder } from './reminders.ts';
import { assertParty, readVisit } from './visit.ts';

const TAKEN = 'Giờ khám này vừa có người đặt; hãy chọn giờ khác (this slot was just taken: pick another)';

export class Booking {
  constructor(
    private readonly store: FhirStore,
    private readonly bus: EventBus,
    private readonly eligibility: EligibilityService,
    private readonly family: FamilyService,
    private readonly catalog: Catalog,
    /** Absolute base of links sent to people (SMS). */
    private readonly baseUrl: string,
  ) {}

  async book(ctx: AccessContext, input: BookingRequest): Promise<{ appointment: Appointment; eligibility: EligibilityDecision; bookingCode: string }> {
    const repo = this.store.as(ctx, 'visits.book');
    await this.assertMayBookFor(repo, ctx, input.patientId);
    const decision = await this.eligibility.check(input.icd10.code);
    if (!decision.eligible) throw businessRule(decision.reason, ['icd10']);
    const questionnaire = await this.catalog.preVisit();
    const items = answerItems(questionnaire, input.answers);
    if (input.answers['red-flags'] === true) {
      throw businessRule(
        'Có dấu hiệu cấp cứu: không khám từ xa. Gọi 115 hoặc đến cơ sở y tế gần nhất ngay. (Emergency signs: call 115 or go to the nearest facility now.)',
        ['answers.red-flags'],
      );
    }
    const bookingCode = randomUUID().slice(0, 8).toUpperCase();
    const appointment = await repo.transaction(async (tx) => {
      const patient = await tx.read<Patient>('Patient', input.patientId);
      const slot = await tx.tryRead<Slot>('Slot', input.slotId);
      if (!slot) throw notFound(`Không có giờ khám ${input.slotId} (no such slot)`);
      const schedule = await tx.read<Schedule>('Schedule', idOf(slot.schedule, 'Schedule')!);
      const practitionerRef = schedule.actor.find((a) => a.reference?.startsWith('Practitioner/'))!;
      const service = serviceInfo(
        await tx.read<HealthcareService>(
          'HealthcareService',
          idOf(
            schedule.actor.find((a) => a.reference?.startsWith('HealthcareService/')),
            'HealthcareService',
          )!,
        ),
      );
      if (new Date(slot.start).getTime() <= Date.now()) throw businessRule('Giờ khám này đã qua (this time has passed)');
      const appointmentId = randomUUID();
      await claimSlot(tx, ctx, slot, appointmentId, input.patientId);
      const qr = await tx.create<QuestionnaireResponse>({
        resourceType: 'QuestionnaireResponse',
        questionnaire: `${PRE_VISIT_URL}|${questionnaire.version}`,
        status: 'completed',
        subject: { reference: `Patient/${input.patientId}` },
        authored: new Date().toISOString(),
        source: { reference: `Patient/${ctx.actor.patientId ?? input.patientId}` },
        item: items,
      });
      const a = await tx.update<Appointment>({
        resourceType: 'Appointment',
        id: appointmentId,
        identifier: [{ system: BOOKING_SYSTEM, value: bookingCode }],
        status: 'booked',
        serviceCategory: [{ coding: [SERVICE_CATEGORY], text: SERVICE_CATEGORY.display }],
        serviceType: [{ coding: [{ system: SERVICE_TYPE_SYSTEM, code: service.code, display: service.name }], text: service.name }],
        reasonCode: [
          { coding: [{ system: ICD10_SYSTEM, code: input.icd10.code, ...(input.icd10.display ? { display: input.icd10.display } : {}) }], text: input.reason },
        ],
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
      });
      await remindVisit(tx, a, patient, ctx.actor.patientId, this.baseUrl);
      await addNotification(
        tx.sql,
        { practitionerId: idOf(practitionerRef, 'Practitioner') },
        'visit',
        `Lịch khám từ xa mới: ${vnTime(a.start!)}`,
        `/visits/${a.id}`,
      );
      await tx.record({
        action: 'visit.book',
        resourceType: 'Appointment',
        resourceId: a.id,
        patientIds: [input.patientId],
        detail: { slot: slot.id, listVersion: decision.listVersion, confirmed: decision.confirmed },
      });
      return a;
    });
    const practitionerId = appointment.participant.map((p) => idOf(p.actor, 'Practitioner')).find(Boolean)!;
    await this.bus.publish({ kind: 'visit.booked', to: { practitionerIds: [practitionerId] }, data: { id: appointment.id! } }).catch(() => undefined);
    return { appointment, eligibility: decision, bookingCode };
  }

  async cancel(ctx: AccessContext, id: string, reason: string): Promise<Appointment> {
    return this.store.as(ctx, 'visits.book').transaction(async (tx) => {
      const v = await readVisit(tx, id);
      await assertParty(tx, ctx, v, this.family);
      if (v.a.status !== 'booked') throw conflict(`Lịch đang ở trạng thái ${v.a.status}, không hủy được (cannot cancel a ${v.a.status} visit)`);
      for (const s of v.a.slot ?? []) await releaseSlot(tx, idOf(s, 'Slot')!);
      await withdrawReminder(tx, v.a);
      const updated = await tx.update<Appointment>(
        { ...v.a, status: 'cancelled', cancelationReason: { text: reason } },
        { ifMatch: `W/"${v.a.meta?.versionId}"` },
      );
      await tx.record({
        action: 'visit.cancel',
        resourceType: 'Appointment',
        resourceId: id,
        patientIds: [v.patientId],
        detail: { reason: reason.slice(0, 200) },
      });
      return updated;
    });
  }

  async reschedule(ctx: AccessContext, id: string, slotId: string): Promise<Appointment> {
    return this.store.as(ctx, 'visits.book').transaction(async (tx) => {
      const v = await readVisit(tx, id);
      await assertParty(tx, ctx, v, this.family);
      if (v.a.status !== 'booked') throw conflict(`Lịch đang ở trạng thái ${v.a.status}, không đổi giờ được (cannot move a ${v.a.status} visit)`);
      const slot = await tx.tryRead<Slot>('Slot', slotId);
      if (!slot) throw notFound(`Không có giờ khám ${slotId}`);
      if (new Date(slot.start).getTime() <= Date.now()) throw businessRule('Giờ khám này đã qua (this time has passed)');
      const schedule = await tx.read<Schedule>('Schedule', idOf(slot.schedule, 'Schedule')!);
      if (!schedule.actor.some((x) => x.reference === `HealthcareService/${serviceIdOf(v.a)}`))
        throw badRequest('Giờ mới phải cùng dịch vụ (the new slot must be for the same service)');
      // The booking row moves in the same transaction: the old slot is free again only if the new one is ours.
      await tx.sql.query('DELETE FROM slot_booking WHERE appointment_id = $1', [id]);
      await claimSlot(tx, ctx, slot, id, v.patientId);
      for (const s of v.a.slot ?? []) await releaseSlot(tx, idOf(s, 'Slot')!);
      await withdrawReminder(tx, v.a);
      const pr = schedule.actor.find((x) => x.reference?.startsWith('Practitioner/'))!;
      const participant = v.a.participant.map((p) =>
        p.actor?.reference?.startsWith('Practitioner/') ? { ...p, actor: { reference: pr.reference, display: pr.display } } : p,
      );
      const updated = await tx.update<Appointment>(
        { ...v.a, start: slot.start, end: slot.end, slot: [{ reference: `Slot/${slot.id}` }], participant },
        { ifMatch: `W/"${v.a.meta?.versionId}"` },
      );
      await remindVisit(tx, updated, await tx.read<Patient>('Patient', v.patientId), ctx.actor.patientId, this.baseUrl);
      await tx.record({
        action: 'visit.reschedule',
        resourceType: 'Appointment',
        resourceId: id,
        patientIds: [v.patientId],
        detail: { from: v.a.start, to: slot.start },
      });
      return updated;
    });
  }

  /** A citizen's visits: their own and their managed family members' (those they reach now). */
  async mine(ctx: AccessContext): Promise<MyVisit[]> {
    const self = ctx.actor.patientId;
    if (!self) return [];
    return this.store.as(ctx, 'visits.book').transaction(async (tx) => {
      const out: MyVisit[] = [];
      for (const patientId of [self, ...(await this.family.managedIds(tx.sql, self))]) {
        if (patientId !== self && !(await tx.reaches(patientId))) continue;
        const patient = await tx.read<Patient>('Patient', patientId);
        const found = await tx.search<Appointment>('Appointment', {
          patient: `Patient/${patientId}`,
          'service-category': CATEGORY_QUERY,
          _sort: '-date',
          _count: '100',
        });
        for (const a of found) out.push({ ...visitSummary(a), for: { patientId, name: personName(patient), self: patientId === self } });
      }
      await tx.record({ action: 'search', resourceType: 'Appointment', detail: { view: 'my-visits', n: out.length } });
      return out.sort((a, b) => b.start.localeCompare(a.start));
    });
  }

  /** The booker's right to act for this patient: themselves or a managed family member (403 otherwise). */
  private async assertMayBookFor(repo: Repository, ctx: AccessContext, patientId: string): Promise<void> {
    const self = ctx.actor.patientId;
    if (self && (patientId === self || (await this.family.manages(repo.sql, self, patientId)))) return;
    throw new AccessDenied(
      'Bạn chỉ đặt lịch cho mình hoặc người thân bạn quản lý hồ sơ (only for yourself or a family member you manage)',
      403,
      false,
      patientId,
    );
  }
}

/** Marks a slot taken, inside the unit of work; a second booking of it, or one overlapping another visit of the same person, fails with 409. */
async function claimSlot(tx: Repository, ctx: AccessContext, slot: Slot, appointmentId: string, patientId: string): Promise<void> {
  if (slot.status !== 'free') throw conflict(TAKEN);
  // One person, one examination at a time. The per-patient lock makes two simultaneous bookings
  // of overlapping slots for the same person take turns, so the second sees the first.
  await tx.sql.query("SELECT pg_advisory_xact_lock(hashtext('visit-booking:' || $1::text))", [patientId]);
  const clash = await tx.sql.query<{ starts_at: Date }>(
    'SELECT starts_at FROM slot_booking WHERE patient_id = $1 AND starts_at < $3 AND ends_at > $2 LIMIT 1',
    [patientId, slot.start, slot.end],
  );
  if (clash.rows.length) {
    const at = vnTime(new Date(clash.rows[0].starts_at).toISOString());
    throw conflict(
      `Người bệnh đã có lịch khám từ xa lúc ${at}, trùng giờ này; hãy chọn giờ khác hoặc hủy lịch kia (already booked for a visit at ${at} that overlaps this time)`,
    );
  }
  try {
    await tx.sql.query('INSERT INTO slot_booking (slot_id, appointment_id, patient_id, booked_by, starts_at, ends_at) VALUES ($1, $2, $3, $4, $5, $6)', [
      slot.id,
      appointmentId,
      patientId,
      ctx.actor.accountId ?? ctx.actor.username ?? 'unknown',
      slot.start,
      slot.end,
    ]);
  } catch (err) {
    if ((err as { code?: string }).code === '23505') throw conflict(TAKEN);
    throw err;
  }
  await tx.update<Slot>({ ...slot, status: 'busy' }, { ifMatch: `W/"${slot.meta?.versionId}"` });
}

async function releaseSlot(tx: Repository, slotId: string): Promise<void> {
  await tx.sql.query('DELETE FROM slot_booking WHERE slot_id = $1', [slotId]);
  const slot = await tx.tryRead<Slot>('Slot', slotId);
  if (slot && slot.status !== 'free') await tx.update<Slot>({ ...slot, status: 'free' });
}
