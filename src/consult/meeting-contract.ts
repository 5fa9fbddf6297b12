/**
 * What the meeting pages show besides the FHIR Appointment (src/consult/meeting-details.ts):
 * names instead of record ids — the chair, the participants, the bridge points with their state,
 * the cases by patient and question — and the list / calendar of meetings. The web imports this
 * file type-only.
 */
import { z } from 'zod';

export interface MeetingPerson {
  practitionerId: string;
  name: string;
  chair: boolean;
  /** The Appointment participant status: accepted, needs-action (invited), declined, tentative. */
  status: string;
}

export interface MeetingSite {
  organizationId?: string;
  name: string;
  /** invited: not joined yet; joined: there now; left: was there. */
  state: 'invited' | 'joined' | 'left';
  since?: string;
  /**
   * While the meeting's video room is live on this node: how many of the site's people are connected
   * now, and the worst connection quality their clients report (good, fair, poor; unknown before any report).
   */
  live?: { connected: number; quality: LiveQuality };
}

export type LiveQuality = 'good' | 'fair' | 'poor' | 'unknown';

export interface MeetingCase {
  caseId: string;
  /** Undefined when the viewer may not see this patient. */
  patient?: string;
  specialty?: string;
  question?: string;
}

export interface MeetingDetails {
  chair?: MeetingPerson;
  participants: MeetingPerson[];
  sites: MeetingSite[];
  cases: MeetingCase[];
  started: boolean;
}

/** `GET /api/meetings?from&to&facility`: meetings I (or my facility) am invited to, in a range of days. */
export const meetingListQuery = z
  .object({
    from: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
    to: z.string().regex(/^\d{4}-\d{2}-\d{2}$/),
    /** Only meetings with a bridge point at this facility. */
    facility: z
      .string()
      .regex(/^[A-Za-z0-9\-.]{1,64}$/)
      .optional(),
  })
  .strict();

export interface MeetingListItem {
  id: string;
  title: string;
  start: string;
  end: string;
  chair?: string;
  sites: { organizationId?: string; name: string }[];
  cases: number;
}
