/**
 * The people in a live room and what the parts of a room share: a member (their connection,
 * state, media, who they act as), the room core the parts work on (live.ts implements it; media,
 * controls and recording consent use it), and sending to a socket.
 */
import type { EventBus } from '../events/bus.ts';
import type { Appointment } from '@medplum/fhirtypes';
import type { AccessContext } from '../auth/actor.ts';
import type { Repository } from '../fhir/repository.ts';
import type { FhirStore } from '../fhir/store.ts';
import type { ChatLine, MediaState, PublicMember, RecordingState, ServerMessage } from './protocol.ts';
import type { RecordingArchive } from './recordings.ts';
import type { Room, RoomService } from './rooms.ts';
import type { SfuPeer } from './sfu.ts';
import type { Entrant, VideoAction, Who } from './who.ts';

/** The socket as the room needs it (a `ws` WebSocket in production). */
export interface Socket {
  send(text: string): void;
  close(code?: number, reason?: string): void;
}

/**
 * What video needs from the case-conference domain: a bridge point's presence on the meeting's
 * Encounter (ConsultService.attendance today), asked as the member who joined or left.
 */
export interface MeetingAttendance {
  attendance(ctx: AccessContext, meetingId: string, input: { organizationId: string; event: 'join' | 'leave' }): Promise<unknown>;
}

export interface LiveDeps {
  rooms: RoomService;
  store: FhirStore;
  /** The case-conference domain, when it runs: bridge points' presence on the meeting's Encounter. */
  consults?: MeetingAttendance;
  /** Makes recordings playable and lists them in the record; recording is refused without it. */
  recordings?: RecordingArchive;
  log?: { warn(obj: object, msg: string): void };
  /** Several Janus (or a supervised one): whether a room's instance answers, and moving a room off a lost one. */
  media?: { isUp(url: string | null): boolean; move(room: Room): Promise<Room | undefined> };
  /** Live events (a patient waiting in a visit's lobby): src/video/waiting.ts. */
  bus?: EventBus;
}

export interface Member {
  id: string;
  /** Who this is across connections: the account, or the invitation link. */
  identity: string;
  resume: string;
  /** A member rebuilt from the record by a node taking the room over, not back yet: their token's hash. */
  resumeHash?: string;
  restored?: boolean;
  entrant: Entrant;
  /** Whom the member acts as: their signed-in self, or (no account) the platform for their link. */
  who: Who;
  site: string;
  host: boolean;
  state: 'lobby' | 'in';
  socket?: Socket;
  hand: boolean;
  media: MediaState;
  attendanceRow?: number;
  grace?: NodeJS.Timeout;
  sfu?: SfuPeer;
  /** Checks the member's credential (session, token or invitation) again. */
  stillValid: () => Promise<boolean>;
  queue: Promise<void>;
  /** Token bucket against message floods. */
  tokens: number;
  refilledAt: number;
}

/** A live room as its parts see it. */
export interface RoomCore {
  readonly room: Room;
  readonly deps: LiveDeps;
  readonly members: Map<string, Member>;
  readonly chat: ChatLine[];
  recording: RecordingState;
  /** The room's appointment, as last read by someone entering (none for an ad-hoc call). */
  readonly appointment?: Appointment;
  /** The repository a member acts through. */
  repo(m: Member, action?: VideoAction): Repository;
  /** An admitted member of this room (throws otherwise). */
  target(id: string): Member;
  broadcast(msg: ServerMessage, except?: Member): void;
  broadcastMembers(): void;
  /** Lets a member waiting in the lobby in. */
  admit(by: Member, t: Member): Promise<void>;
  leave(m: Member, why: string, by?: Member): Promise<void>;
  end(by: Member): Promise<void>;
}

/** Everyone admitted. */
export function inRoom(members: Map<string, Member>): Member[] {
  return [...members.values()].filter((m) => m.state === 'in');
}

/** What the viewer sees of the room's members: people in the lobby are visible to hosts only; someone still in the lobby sees only themselves. */
export function publicMembers(members: Map<string, Member>, viewer: Member): PublicMember[] {
  return [...members.values()]
    .filter((m) => m === viewer || (viewer.state === 'in' && (m.state === 'in' || viewer.host)))
    .map((m) => ({
      id: m.id,
      name: m.entrant.name,
      role: m.entrant.role,
      site: m.site,
      atHome: !m.entrant.staff,
      host: m.host,
      state: m.state,
      connected: !!m.socket,
      hand: m.hand,
      media: m.media,
      feed: m.sfu?.live ? (m.sfu.feed ?? null) : null,
    }));
}

/** The FHIR reference of the person a member is (for chat, consent, recordings). */
export function personRef(e: Entrant): string | undefined {
  return e.practitionerId ? `Practitioner/${e.practitionerId}` : e.patientId ? `Patient/${e.patientId}` : undefined;
}

export function send(m: Member | undefined, msg: ServerMessage): void {
  try {
    m?.socket?.send(JSON.stringify(msg));
  } catch {
    // the socket is closing; the member will resume or time out
  }
}

export function refuse(socket: Socket | undefined, code: number, reason: string): void {
  try {
    socket?.send(JSON.stringify({ type: 'refused', code, message: reason } satisfies ServerMessage));
    // Close reasons are limited to 123 bytes: the message above carries the full text.
    socket?.close(
      code,
      Buffer.from(reason)
        .subarray(0, 120)
        .toString('utf8')
        .replace(/\uFFFD$/, ''),
    );
  } catch {
    // already closed
  }
}
