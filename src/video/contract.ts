/**
 * The HTTP contract of the video domain, shared by the server (src/video/routes.ts) and the web
 * app: the request bodies as zod schemas (the server parses with them) and the response shapes as
 * types (the web app imports them with `import type`, so zod stays out of its bundle). The
 * WebSocket protocol of a room is in protocol.ts.
 */
import { z } from 'zod';

const resourceId = z.string().regex(/^[A-Za-z0-9\-.]{1,64}$/, 'must be a resource id');

/** A room's id in a path (a UUID today; anything else is simply not found). */
export const roomIdParam = z.string().regex(/^[A-Za-z0-9-]{1,64}$/, 'must be a room id');

/** POST /api/video/rooms: find or open the room of a case-conference meeting or a visit, or open an ad-hoc call. */
export const openRoomBody = z
  .object({
    /** 'session': a case-conference meeting (an Appointment with a chair); 'appointment': a visit; 'adhoc': a call with named colleagues. */
    kind: z.enum(['session', 'appointment', 'adhoc']),
    appointmentId: resourceId.optional(),
    title: z.string().trim().min(1).max(300).optional(),
    invitePractitionerIds: z.array(resourceId).max(200).optional(),
    /** Through the SFU even when small (recording needs it). */
    large: z.boolean().optional(),
  })
  .strict();
export type OpenRoomBody = z.infer<typeof openRoomBody>;

/** POST /api/video/rooms/:id/invitations: a one-time link for a citizen on the visit. */
export const invitationBody = z
  .object({
    patientId: resourceId,
    /** The name the host sees in the lobby. */
    label: z.string().trim().min(1).max(100),
    validMinutes: z
      .number()
      .int()
      .min(5)
      .max(7 * 24 * 60)
      .default(120),
  })
  .strict();
export type InvitationBody = z.input<typeof invitationBody>;

/** What anyone who may enter a room learns of it (POST /api/video/rooms, GET /api/video/rooms/:id). */
export interface PublicRoom {
  id: string;
  kind: 'session' | 'appointment' | 'adhoc';
  title: string;
  mode: 'mesh' | 'sfu';
  /** Appointment/<id> for meetings and visits. */
  ref: string | null;
  createdAt: string;
  endedAt: string | null;
}

/** The invitation link, shown once (only its hash is kept). */
export interface InvitationLink {
  url: string;
  token: string;
  expiresAt: string;
}

/** GET /api/video/rooms/:id/attendance: per entry, per person and per site (training hours). */
export interface AttendanceReport {
  entries: { name: string; role: string | null; organizationId: string | null; joinedAt: string; leftAt: string | null }[];
  people: { name: string; role: string | null; organizationId: string | null; minutes: number; hours: number }[];
  sites: { organizationId: string; minutes: number }[];
}

/** One stored recording, as the room page lists it. */
export interface RecordingItem {
  key: string;
  name: string;
  start: string;
  seconds: number;
  size: number;
  contentType: string;
  url: string;
  documentReference: string;
}

/** GET /api/video/rooms/:id/recordings. */
export interface RecordingList {
  items: RecordingItem[];
  /** Files are still being made playable: look again shortly. */
  processing: boolean;
}
