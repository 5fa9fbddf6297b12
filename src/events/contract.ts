/**
 * The one contract between the server and the web app for notifications and live events
 * (src/events/routes.ts): the in-app notification list (`?unread=true`), its unread count, marking
 * read (`POST /api/notifications/:id/read`, `/read-all`; no body), and the payload of each kind of live
 * event on the Server-Sent Events stream (`GET /api/events`), which the publishers
 * (EventBus.publish) and the pages listening for them share.
 *
 * Rules: the web app imports this file with `import type` only; nothing here runs.
 */

/** One entry of `GET /api/notifications` (newest first, at most 100): the row as stored. */
export interface NotificationItem {
  id: number;
  /** What it is about: 'consult', 'meeting', … */
  kind: string;
  title: string;
  /** The page it leads to. */
  link: string | null;
  /** Shown at once (an emergency transfer recommendation). */
  urgent: boolean;
  created_at: string;
  /** When this account read it (read state is per person). */
  read_at: string | null;
}

/** Answer of `GET /api/notifications/count`: unread, and how many of them are urgent. */
export interface NotificationCount {
  unread: number;
  urgent: number;
}

/** An alert episode changed (devices and remote monitoring). */
interface AlertChanged {
  episodeId: number;
  patientId: string;
  metric: string;
  severity: string | null;
}

/**
 * The data of each live event, by its kind (the SSE event name). Ids and codes only, never patient
 * data: the page fetches the details through the access-checked API.
 */
export interface LiveEvents {
  'consult.new': { caseId: string; state: string };
  'consult.state': { caseId: string; state: string };
  'meeting.invite': { meetingId: string };
  'observation.new': { patientId: string };
  'alert.opened': AlertChanged;
  'alert.worse': AlertChanged;
  'alert.closed': AlertChanged;
  'alert.acknowledged': { episodeId: number };
  'alert.escalated': { episodeId: number };
  'visit.booked': { id: string };
  'visit.completed': { id: string };
  /** A citizen entered the lobby of their remote visit's room (src/video/waiting.ts). */
  'visit.waiting': { id: string };
  /** A meeting starts soon (src/consult/reminders.ts). */
  'meeting.reminder': { meetingId: string };
  'device.revoked': { deviceId: string };
  'imaging.new': { studyId: string };
  'imaging.report': { studyId: string; reportId: string };
}
export type LiveEventKind = keyof LiveEvents;
