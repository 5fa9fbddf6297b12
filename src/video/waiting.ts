/**
 * "A patient is waiting": when a citizen enters the lobby of their remote visit's room, the
 * station's clinicians on duty get an inbox notice (and a live event for the unread count) —
 * addressed to the facility that runs the visit's service (its clinical staff see it), or to the
 * visit's clinician when the service names no facility.
 *
 * Rules: written through the entrant's own repository (the video domain's notification grant), in
 * one unit of work; at most one notice per visit in WAITING_REPEAT_MINUTES, however often the
 * citizen reconnects. The title carries no patient name (the visit page, access-checked, does).
 */
import type { Appointment, HealthcareService } from '@medplum/fhirtypes';
import type { EventBus } from '../events/bus.ts';
import { addNotification } from '../events/outbox.ts';
import type { Repository } from '../fhir/repository.ts';

export const WAITING_REPEAT_MINUTES = 15;

const idOf = (ref: string | undefined, type: string) => (ref?.startsWith(`${type}/`) ? ref.slice(type.length + 1) : undefined);

const vnTime = (iso: string | undefined) =>
  iso
    ? new Intl.DateTimeFormat('vi-VN', { timeZone: 'Asia/Ho_Chi_Minh', hour: '2-digit', minute: '2-digit', day: '2-digit', month: '2-digit' }).format(
        new Date(iso),
      )
    : '';

export async function announceWaiting(repo: Repository, appointment: Appointment, bus?: EventBus): Promise<boolean> {
  const link = `/visits/${appointment.id}`;
  const practitionerId = appointment.participant.map((p) => idOf(p.actor?.reference, 'Practitioner')).find(Boolean);
  const serviceId = appointment.participant.map((p) => idOf(p.actor?.reference, 'HealthcareService')).find(Boolean);
  const to = await repo.transaction(async (tx) => {
    const recent = await tx.sql.query(
      `SELECT 1 FROM notification WHERE kind = 'visit-queue' AND link = $1 AND created_at > now() - make_interval(mins => $2) LIMIT 1`,
      [link, WAITING_REPEAT_MINUTES],
    );
    if (recent.rows.length) return undefined;
    const service = serviceId ? await tx.tryRead<HealthcareService>('HealthcareService', serviceId) : undefined;
    const organizationId = idOf(service?.providedBy?.reference, 'Organization');
    const target = organizationId ? { organizationId } : practitionerId ? { practitionerId } : undefined;
    if (!target) return undefined;
    await addNotification(tx.sql, target, 'visit-queue', `Người bệnh đã vào phòng chờ khám từ xa (lịch ${vnTime(appointment.start)})`, link);
    return target;
  });
  if (!to) return false;
  await bus?.publish({
    kind: 'visit.waiting',
    to: { organizationIds: to.organizationId ? [to.organizationId] : [], practitionerIds: to.practitionerId ? [to.practitionerId] : [] },
    data: { id: appointment.id! },
  });
  return true;
}
