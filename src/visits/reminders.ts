/**
 * Visit reminders: an SMS an hour before the visit (at once when less than an hour is left), to
 * the patient's phone or else the booker's, queued in the outbox in the same unit of work as the
 * booking or move that caused it; cancelling or moving the visit withdraws it. The events
 * domain's worker sends it.
 *
 * Rules: written through the booking repository's own tables (the outbox is in the visits grant);
 * one reminder per visit and start time (its dedupe key); the text is ASCII (SMS).
 */
import type { Appointment, Patient } from '@medplum/fhirtypes';
import { cancelMessage, enqueueMessage } from '../events/outbox.ts';
import type { Repository } from '../fhir/repository.ts';
import { vnTime } from './model.ts';

const reminderKey = (a: Appointment) => `visit-reminder:${a.id}:${a.start}`;

export async function remindVisit(tx: Repository, a: Appointment, patient: Patient, bookerPatientId: string | undefined, baseUrl: string): Promise<void> {
  let phone = patient.telecom?.find((t) => t.system === 'phone')?.value;
  if (!phone && bookerPatientId && bookerPatientId !== patient.id) {
    const booker = await tx.tryRead<Patient>('Patient', bookerPatientId);
    phone = booker?.telecom?.find((t) => t.system === 'phone')?.value;
  }
  if (!phone) return;
  const at = new Date(new Date(a.start!).getTime() - 60 * 60_000);
  await enqueueMessage(tx.sql, {
    channel: 'sms',
    recipient: phone,
    subject: 'Nhắc lịch khám từ xa',
    body: `Cau Y Te: lich kham tu xa luc ${vnTime(a.start!)}. Vao phong cho: ${baseUrl}/me/visits/${a.id}`,
    sendAfter: at > new Date() ? at : new Date(),
    dedupeKey: reminderKey(a),
  });
}

/** Withdraws the reminder of a visit at its current start, if not sent yet. */
export async function withdrawReminder(tx: Repository, a: Appointment): Promise<void> {
  await cancelMessage(tx.sql, reminderKey(a));
}
