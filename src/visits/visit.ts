/**
 * A remote examination as its parties see it: reading the booking's Appointment, who may act on it
 * (the patient, the citizen managing their record, the examining clinician), the clinician's queue
 * and one visit with its answers and, afterwards, its outputs (note, diagnosis, reported vitals,
 * prescription, charge).
 *
 * Rules: everything is read through the actor's repository for the route's action
 * (`visits.attend`, `visits.provide`): patient reach and audit apply to every resource; the party
 * check is the domain's, on top. Family links are asked of the family domain with this
 * repository's own tables (read grant on family_link).
 */
import type {
  Appointment,
  ChargeItem,
  Composition,
  Condition,
  Encounter,
  MedicationRequest,
  Observation,
  Patient,
  QuestionnaireResponse,
} from '@medplum/fhirtypes';
import { AccessDenied } from '../auth/access.ts';
import type { AccessContext } from '../auth/actor.ts';
import { narrativeText } from '../fhir/narrative.ts';
import { notFound } from '../fhir/outcome.ts';
import type { Repository } from '../fhir/repository.ts';
import type { FhirStore } from '../fhir/store.ts';
import type { FamilyService } from '../family/service.ts';
import { BHYT_SYSTEM } from '../terminology/identifiers.ts';
import { searchAll } from './all-pages.ts';
import { answerText } from './catalog.ts';
import type { QueueItem, VisitOutputs, VisitView } from './contract.ts';
import { CATEGORY_QUERY, chargeSummary, idOf, identifierOf, isRemoteExamination, partiesOf, personName, visitSummary } from './model.ts';

export interface VisitRef {
  a: Appointment;
  patientId: string;
  practitionerId?: string;
}

/** A remote examination's Appointment, read through the repository (reach and audit apply). */
export async function readVisit(tx: Repository, id: string): Promise<VisitRef> {
  const a = await tx.read<Appointment>('Appointment', id);
  if (!isRemoteExamination(a)) throw notFound(`Lịch ${id} không phải lịch khám từ xa (not a remote examination)`);
  return { a, ...partiesOf(a) };
}

/** Only the patient, the citizen who manages their record, and the visit's clinician act on a visit. */
export async function assertParty(tx: Repository, ctx: AccessContext, v: VisitRef, family: FamilyService): Promise<void> {
  const a = ctx.actor;
  if (a.role === 'citizen' && a.patientId && (v.patientId === a.patientId || (await family.manages(tx.sql, a.patientId, v.patientId)))) return;
  if (a.practitionerId && a.practitionerId === v.practitionerId) return;
  throw new AccessDenied(
    'Chỉ người bệnh (hoặc người thân quản lý) và bác sĩ của lịch này (only the patient, their family manager, or the visit’s clinician)',
    403,
    false,
    v.patientId,
  );
}

export class Visits {
  constructor(
    private readonly store: FhirStore,
    private readonly family: FamilyService,
  ) {}

  /** The clinician's queue: their visits from `from` for `days` days, with who is waiting in the room's lobby. */
  async queue(ctx: AccessContext, from: Date, days: number, waiting: (appointmentId: string) => number): Promise<QueueItem[]> {
    if (!ctx.actor.practitionerId) throw new AccessDenied('Tài khoản không gắn với bác sĩ (your account is not a practitioner)');
    const until = new Date(from.getTime() + days * 86_400_000);
    const repo = this.store.as(ctx, 'visits.provide');
    const found = await repo.transaction(async (tx) => {
      const list = await searchAll<Appointment>(
        tx,
        'Appointment',
        {
          practitioner: `Practitioner/${ctx.actor.practitionerId}`,
          'service-category': CATEGORY_QUERY,
          date: [`ge${from.toISOString()}`, `lt${until.toISOString()}`],
          _sort: 'date',
        },
        1000,
      );
      await tx.record({ action: 'search', resourceType: 'Appointment', detail: { view: 'visit-queue', from: from.toISOString(), days, n: list.length } });
      return list;
    });
    return found.map((a) => ({ ...visitSummary(a), waiting: waiting(a.id!) }));
  }

  /** One visit with what the clinician (or the citizen) needs: answers, and after the visit its note and prescription. */
  async view(ctx: AccessContext, id: string): Promise<VisitView> {
    return this.store.as(ctx, 'visits.attend').transaction(async (tx) => {
      const v = await readVisit(tx, id);
      await assertParty(tx, ctx, v, this.family);
      const qrId = idOf(
        v.a.supportingInformation?.find((r) => r.reference?.startsWith('QuestionnaireResponse/')),
        'QuestionnaireResponse',
      );
      const qr = qrId ? await tx.tryRead<QuestionnaireResponse>('QuestionnaireResponse', qrId) : undefined;
      const patient = await tx.read<Patient>('Patient', v.patientId);
      const encounter = await tx.searchOne<Encounter>('Encounter', { appointment: `Appointment/${id}` });
      const outputs = encounter ? await visitOutputs(tx, encounter.id!) : {};
      const homeBp = answerText(qr, 'home-bp');
      await tx.record({ action: 'read', resourceType: 'Appointment', resourceId: id, patientIds: [v.patientId], detail: { view: 'visit' } });
      return {
        ...visitSummary(v.a),
        patient: {
          id: patient.id!,
          name: personName(patient),
          birthDate: patient.birthDate,
          gender: patient.gender,
          bhytCard: identifierOf(patient, BHYT_SYSTEM),
        },
        answers: (qr?.item ?? []).map((i) => ({ linkId: i.linkId, text: i.text, answer: answerText(qr, i.linkId) })),
        homeBp: typeof homeBp === 'string' ? homeBp : undefined,
        encounterId: encounter?.id,
        ...outputs,
      };
    });
  }
}

/** What a finished visit produced, by its Encounter. */
async function visitOutputs(tx: Repository, encounterId: string): Promise<VisitOutputs> {
  const byEncounter = { encounter: `Encounter/${encounterId}` };
  const note = await tx.searchOne<Composition>('Composition', byEncounter);
  const meds = await searchAll<MedicationRequest>(tx, 'MedicationRequest', byEncounter, 200);
  const conditions = await searchAll<Condition>(tx, 'Condition', byEncounter, 200);
  const observations = await searchAll<Observation>(tx, 'Observation', byEncounter, 200);
  const charge = await tx.searchOne<ChargeItem>('ChargeItem', { context: `Encounter/${encounterId}` });
  const rx = meds.sort((a, b) => itemNumber(a) - itemNumber(b));
  return {
    note: note && { id: note.id!, date: note.date, sections: note.section?.map((s) => ({ title: s.title, text: narrativeText(s.text?.div ?? '') })) ?? [] },
    diagnosis: conditions.map((c) => ({ code: c.code?.coding?.[0]?.code, display: c.code?.coding?.[0]?.display ?? c.code?.text })),
    reported: observations.map((o) => ({ code: o.code.coding?.[0]?.code, text: o.code.text, value: observationText(o) })),
    prescription: rx.length
      ? {
          code: rx[0].groupIdentifier?.value,
          items: rx.map((m) => ({
            name: m.medicationCodeableConcept?.text,
            drugCode: m.medicationCodeableConcept?.coding?.[0]?.code,
            dosage: m.dosageInstruction?.[0]?.text,
            quantity: m.dispenseRequest?.quantity?.value,
            unit: m.dispenseRequest?.quantity?.unit,
            days: m.dispenseRequest?.expectedSupplyDuration?.value,
          })),
        }
      : undefined,
    charge: charge && chargeSummary(charge),
  };
}

/** A prescription item's number (`code/n`), for their order. */
export const itemNumber = (m: MedicationRequest): number => Number(m.identifier?.[0]?.value?.split('/')[1] ?? 0);

function observationText(o: Observation): string {
  if (o.component?.length) return o.component.map((c) => c.valueQuantity?.value).join('/') + ` ${o.component[0].valueQuantity?.unit ?? ''}`.trimEnd();
  return `${o.valueQuantity?.value ?? ''} ${o.valueQuantity?.unit ?? ''}`.trim();
}
