/**
 * Meeting reminders in the inbox: REMINDER_LEAD_MINUTES before a case-conference meeting starts,
 * every invited practitioner and every invited bridge point's facility gets a notice (and a live
 * event for the unread count). Email/SMS reminders are queued at scheduling time (meetings.ts);
 * this covers the in-app side, which needs no address.
 *
 * Rules: runs as the platform (`store.system`, reason written in the audit) on a timer the consult
 * plugin starts and stops (onClose). Each reminder sent is a row of meeting_reminder inserted in
 * the same transaction as its notification (ON CONFLICT DO NOTHING): a restart, an overlapping run
 * or a second node never sends it twice. A meeting cancelled or already under way gets none.
 */
import type { Appointment, Location } from '@medplum/fhirtypes';
import type { EventBus } from '../events/bus.ts';
import { addNotification } from '../events/outbox.ts';
import type { FhirStore } from '../fhir/store.ts';
import { CONSULT_CATEGORY } from './model.ts';

export const REMINDER_LEAD_MINUTES = 15;
const EVERY_MS = 60_000;

const idOf = (ref: string | undefined, type: string) => (ref?.startsWith(`${type}/`) ? ref.slice(type.length + 1) : undefined);

export class MeetingReminders {
  private timer?: NodeJS.Timeout;
  private running?: Promise<number>;

  constructor(
    private readonly store: FhirStore,
    private readonly bus?: EventBus,
    private readonly log?: { warn(obj: object, msg: string): void },
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.run().catch((err) => this.log?.warn({ err }, 'meeting reminders failed')), EVERY_MS);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.running?.catch(() => undefined);
  }

  /** Sends the reminders due at `now` (one run at a time in this process); returns how many were written. */
  run(now = new Date()): Promise<number> {
    this.running ??= this.runOnce(now).finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  private async runOnce(now: Date): Promise<number> {
    const repo = this.store.system('meeting reminders: notify the invited before a case conference starts', 'consult');
    const until = new Date(now.getTime() + REMINDER_LEAD_MINUTES * 60_000);
    const meetings = await repo.search<Appointment>('Appointment', {
      'service-category': `${CONSULT_CATEGORY.system}|${CONSULT_CATEGORY.code}`,
      date: [`gt${now.toISOString()}`, `le${until.toISOString()}`],
      status: 'booked',
      _count: '500',
    });
    let sent = 0;
    for (const m of meetings) {
      if (!m.start || Date.parse(m.start) <= now.getTime() || Date.parse(m.start) > until.getTime()) continue;
      const minutes = Math.max(1, Math.round((Date.parse(m.start) - now.getTime()) / 60_000));
      const title = `Nhắc lịch: phiên hội chẩn "${m.description ?? ''}" bắt đầu sau ${minutes} phút`;
      const link = `/meetings/${m.id}`;
      const notified = await repo.transaction(async (tx) => {
        const recipients: { key: string; to: { practitionerId?: string; organizationId?: string } }[] = [];
        for (const p of m.participant) {
          const prac = idOf(p.actor?.reference, 'Practitioner');
          if (prac) recipients.push({ key: `Practitioner/${prac}`, to: { practitionerId: prac } });
          const loc = idOf(p.actor?.reference, 'Location');
          const org = loc ? idOf((await tx.tryRead<Location>('Location', loc))?.managingOrganization?.reference, 'Organization') : undefined;
          if (org) recipients.push({ key: `Organization/${org}`, to: { organizationId: org } });
        }
        const done: typeof recipients = [];
        for (const r of recipients) {
          const claimed = await tx.sql.query(
            'INSERT INTO meeting_reminder (appointment_id, recipient, lead_minutes) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING recipient',
            [m.id, r.key, REMINDER_LEAD_MINUTES],
          );
          if (!claimed.rows.length) continue;
          await addNotification(tx.sql, r.to, 'meeting', title, link);
          done.push(r);
        }
        if (done.length)
          await tx.record({ action: 'consult.meeting.remind', resourceType: 'Appointment', resourceId: m.id, detail: { recipients: done.map((r) => r.key) } });
        return done;
      });
      sent += notified.length;
      if (notified.length)
        await this.bus?.publish({
          kind: 'meeting.reminder',
          to: {
            practitionerIds: notified.map((r) => r.to.practitionerId).filter((x): x is string => !!x),
            organizationIds: notified.map((r) => r.to.organizationId).filter((x): x is string => !!x),
          },
          data: { meetingId: m.id! },
        });
    }
    return sent;
  }
}
