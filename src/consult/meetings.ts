/**
 * Meetings (phiên hội chẩn): a coordinator of the receiving facility puts accepted cases on the
 * agenda of an Appointment with a host, participants and the bridge points (điểm cầu, a Location
 * per invited facility); invitations and reminders go out through the notification outbox in the
 * same transaction. Each site's presence is kept on the meeting's Encounter (same id as the
 * Appointment). A meeting is visible to its invited practitioners and the staff of its invited sites.
 * Runs as `consult.schedule` (planning) and `consult.view` (the meeting page, attendance).
 */
import type { Appointment, Encounter, Location, Practitioner } from '@medplum/fhirtypes';
import { createEvents, type EventAttributes } from 'ics';
import type { AccessContext } from '../auth/actor.ts';
import { AccessDenied } from '../auth/access.ts';
import { addNotification, enqueueMessage } from '../events/outbox.ts';
import type { Repository } from '../fhir/repository.ts';
import { badRequest, notFound } from '../fhir/outcome.ts';
import { assertSide, loadCase, publish, recordCase, transition, notifySide, type CaseParts, type ConsultDeps } from './case.ts';
import type { AttendanceInput, MeetingInput, MeetingView } from './contract.ts';
import { CONSULT_CATEGORY, isMeetingAppointment, param, ref } from './model.ts';
import { assertTransition } from './workflow.ts';
import { foldIcs } from './ics-fold.ts';
import { meetingDetails } from './meeting-details.ts';
import { bridgePoint } from './bridge-point.ts';

const meetingLink = (id: string) => `/meetings/${id}`;

/** Invitations (in-app, email/SMS) and reminders 24 h and 1 h before, in the unit's transaction. */
async function invite(tx: Repository, appointment: Appointment, input: MeetingInput, invitees: string[]): Promise<void> {
  const when = new Intl.DateTimeFormat('vi-VN', { timeZone: 'Asia/Ho_Chi_Minh', dateStyle: 'short', timeStyle: 'short' }).format(new Date(input.start));
  const link = meetingLink(appointment.id!);
  // Email and SMS carry the whole address of the meeting page (in-app notifications the path).
  const url = `${tx.fhirBase.replace(/\/fhir\/R4$/, '')}${link}`;
  for (const p of invitees) {
    await addNotification(tx.sql, { practitionerId: p }, 'meeting', `Mời tham dự phiên hội chẩn "${input.title}" lúc ${when}`, link);
    const prac = await tx.tryRead<Practitioner>('Practitioner', p);
    for (const t of prac?.telecom ?? []) {
      const channel = t.system === 'email' ? 'email' : t.system === 'phone' || t.system === 'sms' ? 'sms' : undefined;
      if (!channel || !t.value) continue;
      const body = `Phiên hội chẩn "${input.title}" lúc ${when} (giờ Việt Nam). Tham dự tại: ${url}`;
      await enqueueMessage(tx.sql, {
        channel,
        recipient: t.value,
        subject: 'Mời tham dự phiên hội chẩn',
        body,
        dedupeKey: `invite:${appointment.id}:${p}:${channel}`,
      });
      for (const [label, minutes] of [
        ['24 giờ', 24 * 60],
        ['1 giờ', 60],
      ] as const) {
        const at = new Date(Date.parse(input.start) - minutes * 60_000);
        if (at.getTime() > Date.now())
          await enqueueMessage(tx.sql, {
            channel,
            recipient: t.value,
            subject: `Nhắc lịch: còn ${label}`,
            body,
            sendAfter: at,
            dedupeKey: `remind:${appointment.id}:${p}:${channel}:${minutes}`,
          });
      }
    }
  }
  for (const org of input.siteOrganizationIds)
    await addNotification(tx.sql, { organizationId: org }, 'meeting', `Điểm cầu của bạn được mời vào phiên "${input.title}" lúc ${when}`, link);
}

export async function scheduleMeeting(deps: ConsultDeps, ctx: AccessContext, input: MeetingInput): Promise<Appointment> {
  if (Date.parse(input.end) <= Date.parse(input.start)) throw badRequest('Giờ kết thúc phải sau giờ bắt đầu (end must be after start)');
  const invitees = [...new Set([input.hostPractitionerId, ...input.participantPractitionerIds])];
  const result = await deps.store.as(ctx, 'consult.schedule').transaction(async (tx) => {
    const cases: CaseParts[] = [];
    for (const id of input.caseIds) {
      const c = await loadCase(tx, id);
      assertSide(ctx.actor, c, 'receiver');
      assertTransition('schedule', c.state);
      cases.push(c);
    }
    const sites: string[] = [];
    for (const org of input.siteOrganizationIds) sites.push(await bridgePoint(tx, org));
    for (const p of invitees) if (!(await tx.tryRead('Practitioner', p))) throw badRequest(`Không có người tham gia ${p} (unknown practitioner)`);
    const appointment = await tx.create<Appointment>({
      resourceType: 'Appointment',
      status: 'booked',
      serviceCategory: [{ coding: [CONSULT_CATEGORY] }],
      appointmentType: { text: 'Phiên hội chẩn từ xa' },
      description: input.title,
      ...(input.topic ? { comment: `Chủ đề đào tạo: ${input.topic}` } : {}),
      start: new Date(input.start).toISOString(),
      end: new Date(input.end).toISOString(),
      created: new Date().toISOString(),
      basedOn: cases.map((c) => ({ reference: `ServiceRequest/${c.request.id}` })),
      participant: [
        {
          type: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'PPRF', display: 'chủ trì' }] }],
          actor: { reference: `Practitioner/${input.hostPractitionerId}` },
          required: 'required',
          status: 'accepted',
        },
        ...invitees
          .filter((p) => p !== input.hostPractitionerId)
          .map((p) => ({ actor: { reference: `Practitioner/${p}` }, required: 'required' as const, status: 'needs-action' as const })),
        ...sites.map((l) => ({ actor: { reference: `Location/${l}` }, required: 'required' as const, status: 'needs-action' as const })),
      ],
    });
    for (const c of cases) {
      await transition(tx, ctx.actor, c, 'schedule', (t) => ({
        ...t,
        input: [...(t.input ?? []), { type: param('meeting', 'Phiên hội chẩn'), valueReference: { reference: `Appointment/${appointment.id}` } }],
      }));
      await notifySide(tx, c, 'requester', `Ca hội chẩn được xếp vào phiên ${input.title}`);
      await recordCase(tx, 'schedule', { caseId: c.request.id!, patientId: c.patientId }, { meeting: appointment.id });
    }
    await invite(tx, appointment, input, invitees);
    return { appointment, cases };
  });
  for (const c of result.cases) await publish(deps.bus, c);
  await deps.bus.publish({
    kind: 'meeting.invite',
    to: { practitionerIds: invitees, organizationIds: input.siteOrganizationIds },
    data: { meetingId: result.appointment.id! },
  });
  return result.appointment;
}

async function readMeeting(tx: Repository, meetingId: string): Promise<Appointment> {
  const appointment = await tx.tryRead<Appointment>('Appointment', meetingId);
  if (!appointment || !isMeetingAppointment(appointment)) throw notFound(`Không có phiên hội chẩn ${meetingId} (no such meeting)`);
  return appointment;
}

/** Join/leave of a bridge point, on the meeting's Encounter (one per meeting, with the Appointment's id). */
export async function attendance(deps: ConsultDeps, ctx: AccessContext, meetingId: string, input: AttendanceInput): Promise<Encounter> {
  if (ctx.actor.organizationId !== input.organizationId)
    throw new AccessDenied('Chỉ ghi nhận tham dự cho điểm cầu của mình (record attendance for your own site)');
  return deps.store.as(ctx, 'consult.view').transaction(async (tx) => {
    const appointment = await readMeeting(tx, meetingId);
    const location = await bridgePoint(tx, input.organizationId);
    if (!appointment.participant.some((p) => p.actor?.reference === `Location/${location}`))
      throw badRequest('Điểm cầu này không được mời vào phiên (this site was not invited)');
    const now = new Date().toISOString();
    const enc: Encounter = (await tx.tryRead<Encounter>('Encounter', meetingId)) ?? {
      resourceType: 'Encounter',
      id: meetingId,
      status: 'in-progress',
      class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'VR', display: 'virtual' },
      type: [{ text: 'Phiên hội chẩn từ xa' }],
      serviceType: { coding: [CONSULT_CATEGORY] },
      appointment: [{ reference: `Appointment/${meetingId}` }],
      period: { start: now },
      location: [],
    };
    const locs = [...(enc.location ?? [])];
    if (input.event === 'join') locs.push({ location: { reference: `Location/${location}` }, status: 'active', period: { start: now } });
    else {
      const open = [...locs].reverse().find((l) => l.location.reference === `Location/${location}` && !l.period?.end);
      if (!open) throw badRequest('Điểm cầu này chưa tham gia (not joined)');
      open.status = 'completed';
      open.period = { ...open.period, end: now };
    }
    const saved = await tx.update<Encounter>({ ...enc, location: locs });
    await tx.record({
      action: `consult.meeting-${input.event}`,
      resourceType: 'Appointment',
      resourceId: meetingId,
      detail: { organizationId: input.organizationId },
    });
    return saved;
  });
}

/** The meeting page: only for its invited practitioners and the staff of its invited sites. */
export async function meeting(deps: ConsultDeps, ctx: AccessContext, meetingId: string): Promise<MeetingView> {
  const a = ctx.actor;
  return deps.store.as(ctx, 'consult.view').transaction(async (tx) => {
    const appointment = await readMeeting(tx, meetingId);
    let invited = !!a.practitionerId && appointment.participant.some((p) => p.actor?.reference === `Practitioner/${a.practitionerId}`);
    for (const p of appointment.participant) {
      const loc = ref(p.actor, 'Location');
      if (!loc || invited || !a.organizationId) continue;
      const l = await tx.tryRead<Location>('Location', loc);
      invited = l?.managingOrganization?.reference === `Organization/${a.organizationId}`;
    }
    if (!invited) throw new AccessDenied('Bạn và điểm cầu của bạn không được mời vào phiên này (you are not invited to this meeting)');
    const attendance = await tx.tryRead<Encounter>('Encounter', meetingId);
    const details = await meetingDetails(tx, appointment, attendance, deps.liveSites?.(`Appointment/${meetingId}`));
    await tx.record({ action: 'consult.meeting', resourceType: 'Appointment', resourceId: meetingId });
    return { appointment, ...(attendance ? { attendance } : {}), details };
  });
}

/**
 * An iCalendar file for a meeting (times in UTC; calendars show them in local time), with the
 * link to the meeting page when the public base URL is known; lines folded at 75 octets.
 */
export function toIcs(a: Appointment, baseUrl?: string): string {
  const parts = (iso: string): [number, number, number, number, number] => {
    const d = new Date(iso);
    return [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes()];
  };
  const event: EventAttributes = {
    uid: `appointment-${a.id}@cauyte`,
    start: parts(a.start!),
    startInputType: 'utc',
    startOutputType: 'utc',
    end: parts(a.end!),
    endInputType: 'utc',
    endOutputType: 'utc',
    title: `Hội chẩn từ xa: ${a.description ?? ''}`,
    description: [a.comment, `${a.basedOn?.length ?? 0} ca bệnh`, baseUrl ? `Tham dự: ${baseUrl}${meetingLink(a.id!)}` : undefined].filter(Boolean).join('\n'),
    ...(baseUrl ? { url: `${baseUrl}${meetingLink(a.id!)}` } : {}),
    location: 'Trực tuyến — Cầu Y Tế',
    status: 'CONFIRMED',
  };
  const { error, value } = createEvents([event]);
  if (error || !value) throw new Error(`Cannot make the calendar file: ${error?.message}`);
  return foldIcs(value);
}
