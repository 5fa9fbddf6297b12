/**
 * The signalling protocol between the room page and the server: what the page may send (zod,
 * validated message by message; anything else is refused with an `error` message) and what the
 * server sends back. The web app imports these types with `import type` (no zod in its bundle).
 */
import { z } from 'zod';

const jsep = z.object({ type: z.enum(['offer', 'answer']), sdp: z.string().min(10).max(64_000) }).strict();
const candidate = z
  .object({
    candidate: z.string().max(1_000),
    sdpMid: z.string().max(64).nullable().optional(),
    sdpMLineIndex: z.number().int().min(0).max(64).nullable().optional(),
    usernameFragment: z.string().max(256).nullable().optional(),
  })
  .nullable();
const memberId = z.string().regex(/^m-[A-Za-z0-9_-]{8,40}$/);
const feed = z.number().int().positive();
const signalData = z.object({ description: jsep.optional(), candidate: candidate.optional(), restart: z.boolean().optional() }).strict();

/** A shared imaging viewer's state: image index, window (centre/width), zoom, pan, pointer (0–1 of the viewport). */
const finite = z.number().finite();
const viewerState = z
  .object({
    index: z.number().int().min(0).max(100_000),
    wc: finite,
    ww: finite.positive(),
    zoom: finite.positive().max(1000),
    pan: z.tuple([finite, finite]),
    pointer: z
      .tuple([z.number().min(0).max(1), z.number().min(0).max(1)])
      .nullable()
      .optional(),
  })
  .strict();
export type ViewerState = z.infer<typeof viewerState>;

/** A page's number for one subscription (optional: a client that does not number them gets no check). */
const subRef = z.number().int().min(1).max(Number.MAX_SAFE_INTEGER).optional();

export const clientMessage = z.discriminatedUnion('type', [
  z.object({ type: z.literal('ping') }).strict(),
  // Mesh: an SDP or ICE candidate for one other member, relayed as is.
  z.object({ type: z.literal('signal'), to: memberId, data: signalData }).strict(),
  // SFU: publish (or re-publish with an ICE restart), subscribe to a feed, answer its offer, trickle.
  z.object({ type: z.literal('publish'), jsep }).strict(),
  // `ref`: the page's number for one subscription of a feed, echoed in sub-offer and sub-failed, so a
  // late answer or failure of a subscription already replaced is not taken for the new one's.
  z.object({ type: z.literal('subscribe'), feed, ref: subRef }).strict(),
  z.object({ type: z.literal('sub-answer'), feed, jsep, ref: subRef }).strict(),
  z.object({ type: z.literal('sub-restart'), feed, ref: subRef }).strict(),
  z.object({ type: z.literal('unsubscribe'), feed }).strict(),
  // Simulcast: which layer of a feed this viewer wants (0 smallest … 2 full).
  z.object({ type: z.literal('layer'), feed, substream: z.number().int().min(0).max(2) }).strict(),
  z.object({ type: z.literal('trickle'), target: z.union([z.literal('pub'), feed]), candidate }).strict(),
  // In the room.
  z.object({ type: z.literal('chat'), text: z.string().trim().min(1).max(2_000) }).strict(),
  z.object({ type: z.literal('hand'), up: z.boolean() }).strict(),
  // Shared viewing of an imaging study (src/imaging): the presenter's viewer state, relayed as it is.
  z.object({ type: z.literal('viewer'), study: z.string().regex(/^[A-Za-z0-9\-.]{1,64}$/), state: viewerState }).strict(),
  z
    .object({
      type: z.literal('media'),
      audio: z.boolean(),
      video: z.boolean(),
      screen: z.boolean(),
      audioOnly: z.boolean(),
      quality: z.enum(['good', 'fair', 'poor', 'unknown']),
      /** What the sender's link carries now (full picture, low picture, audio only). */
      level: z.enum(['full', 'low', 'audio']).optional(),
    })
    .strict(),
  z.object({ type: z.literal('leave') }).strict(),
  // Host controls.
  z.object({ type: z.literal('admit'), id: memberId }).strict(),
  z.object({ type: z.literal('deny'), id: memberId }).strict(),
  z.object({ type: z.literal('mute'), id: memberId }).strict(),
  z.object({ type: z.literal('remove'), id: memberId }).strict(),
  z.object({ type: z.literal('end') }).strict(),
  // Recording: the host asks, every participant answers visibly; each answer is a Consent.
  z.object({ type: z.literal('record-request') }).strict(),
  z.object({ type: z.literal('record-stop') }).strict(),
  z.object({ type: z.literal('record-consent'), agree: z.boolean() }).strict(),
]);

export type ClientMessage = z.infer<typeof clientMessage>;
export type Jsep = z.infer<typeof jsep>;
export type IceCandidate = z.infer<typeof candidate>;
/** A mesh signal (SDP, ICE candidate or a request to restart ICE), relayed as is. */
export type SignalData = z.infer<typeof signalData>;

/** Messages a host may send; everyone else gets a refusal. */
export const HOST_ONLY = new Set(['admit', 'deny', 'mute', 'remove', 'end', 'record-request', 'record-stop']);
/** What a person still in the lobby may send. */
export const LOBBY_ALLOWED = new Set(['ping', 'leave']);

export interface MediaState {
  audio: boolean;
  video: boolean;
  screen: boolean;
  audioOnly: boolean;
  quality: 'good' | 'fair' | 'poor' | 'unknown';
  /** What the sender's link carries now (absent: full, or an older client). */
  level?: 'full' | 'low' | 'audio';
}

/** What every participant sees of another. */
export interface PublicMember {
  id: string;
  name: string;
  /** The role's code (policy.ts ROLES); the page shows its label. */
  role: string;
  /** The facility the person joins from (empty for a citizen, who is at home). */
  site: string;
  /** A citizen joining from home (the page says so in its language). */
  atHome: boolean;
  host: boolean;
  state: 'lobby' | 'in';
  connected: boolean;
  hand: boolean;
  media: MediaState;
  /** SFU: the Janus feed to subscribe to, once this member publishes. */
  feed: number | null;
}

export interface ChatLine {
  /** The sender's member id. */
  from: string;
  name: string;
  text: string;
  at: string;
}

export interface RecordingState {
  state: 'off' | 'asking' | 'on';
  /** Per member id: their answer to the current request. */
  consents: Record<string, boolean>;
  note?: string;
}

/** STUN/TURN for the browser (TURN credentials in the coturn REST format, time-limited). */
export interface IceServer {
  urls: string[];
  username?: string;
  credential?: string;
}

/** Everything the server sends on the room's socket. */
export type ServerMessage =
  | {
      type: 'welcome';
      resumed: boolean;
      you: { id: string; resume: string; host: boolean; state: 'lobby' | 'in' };
      room: { id: string; title: string; mode: 'mesh' | 'sfu'; kind: 'session' | 'appointment' | 'adhoc' };
      iceServers: IceServer[];
      iceTransportPolicy: 'all' | 'relay';
      members: PublicMember[];
      chat: ChatLine[];
      recording: RecordingState;
    }
  | { type: 'admitted'; chat: ChatLine[]; recording: RecordingState }
  | { type: 'members'; members: PublicMember[] }
  | { type: 'left'; id: string }
  | { type: 'signal'; from: string; data: SignalData }
  | { type: 'ice'; iceServers: IceServer[] }
  | { type: 'pub-answer'; jsep: Jsep }
  | { type: 'sub-offer'; feed: number; member: string; jsep: Jsep; ref?: number }
  | { type: 'sub-failed'; feed: number; message: string; ref?: number }
  | ({ type: 'chat' } & ChatLine)
  | { type: 'viewer'; from: string; study: string; state: ViewerState }
  | { type: 'muted'; by: string }
  | { type: 'recording'; recording: RecordingState }
  | { type: 'notice'; text: string }
  | { type: 'ended'; by: string }
  // SFU: the room's media now goes through other Janus sessions (its Janus was lost, or another API
  // node took the room over): close the SFU connections and publish and subscribe again.
  | { type: 'renegotiate'; reason: 'media-server' | 'takeover' }
  | { type: 'refused'; code: number; message: string }
  | { type: 'error'; message: string }
  | { type: 'pong' };
