/**
 * The media side of a live room: in a mesh room, SDP and ICE candidates relayed between two
 * admitted members; in an SFU room, each member's Janus session (publish, subscribe to another
 * member's feed, answer, ICE restart, simulcast layer, trickle). Every feed asked for must belong
 * to an admitted member of this room; the member's own Janus handles are the only ones used.
 */
import type { ClientMessage, Jsep } from './protocol.ts';
import { send, type Member, type RoomCore } from './members.ts';
import { JanusTimeout } from './janus.ts';
import { SfuPeer } from './sfu.ts';

type MediaMessage = Extract<ClientMessage, { type: 'signal' | 'publish' | 'subscribe' | 'sub-answer' | 'sub-restart' | 'unsubscribe' | 'layer' | 'trickle' }>;

export const MEDIA_MESSAGES = new Set<ClientMessage['type']>([
  'signal',
  'publish',
  'subscribe',
  'sub-answer',
  'sub-restart',
  'unsubscribe',
  'layer',
  'trickle',
]);

export function isMediaMessage(msg: ClientMessage): msg is MediaMessage {
  return MEDIA_MESSAGES.has(msg.type);
}

export class MediaRelay {
  constructor(private readonly core: RoomCore) {}

  async handle(m: Member, msg: MediaMessage): Promise<void> {
    switch (msg.type) {
      case 'signal': {
        if (this.core.room.mode !== 'mesh') throw new Error('signal is for peer-to-peer rooms');
        const t = this.core.target(msg.to);
        if (t.state !== 'in') throw new Error('Người này chưa vào phòng (not admitted)');
        return send(t, { type: 'signal', from: m.id, data: msg.data });
      }
      case 'publish': {
        const sfu = await this.sfuOf(m);
        const hadFeed = sfu.feed;
        const jsep = await sfu.publish(msg.jsep);
        send(m, { type: 'pub-answer', jsep });
        if (hadFeed === undefined && sfu.live) this.core.broadcastMembers();
        return;
      }
      case 'subscribe':
        return this.offer(m, msg.feed, msg.ref, (sfu) => sfu.subscribe(msg.feed, msg.ref));
      case 'sub-answer': {
        const sfu = await this.sfuOf(m);
        try {
          const owner = this.ownerOf(msg.feed);
          if (await sfu.start(msg.feed, msg.jsep, msg.ref)) await owner.sfu?.requestKeyframe();
        } catch (err) {
          // A busy Janus may still start it: the page gives it up itself if no media comes.
          if (!(err instanceof JanusTimeout)) this.subscriptionFailed(m, msg.feed, err, msg.ref);
        }
        return;
      }
      case 'sub-restart':
        return this.offer(m, msg.feed, msg.ref, (sfu) => sfu.restartSubscription(msg.feed, msg.ref));
      case 'unsubscribe':
        return m.sfu?.unsubscribe(msg.feed);
      case 'layer':
        return m.sfu?.chooseLayer(msg.feed, msg.substream as 0 | 1 | 2);
      case 'trickle':
        return m.sfu?.trickle(msg.target, msg.candidate);
    }
  }

  /**
   * Janus's offer of a feed (a new subscription, or an ICE restart of one) to the page; if it cannot
   * be made — the publisher renegotiating or gone, the subscription gone — the page tries again (or drops the feed).
   */
  private async offer(m: Member, feed: number, ref: number | undefined, make: (sfu: SfuPeer) => Promise<Jsep>): Promise<void> {
    try {
      const owner = this.ownerOf(feed);
      const jsep = await make(await this.sfuOf(m));
      send(m, { type: 'sub-offer', feed, member: owner.id, jsep, ref });
    } catch (err) {
      this.subscriptionFailed(m, feed, err, ref);
    }
  }

  /** The page closes this subscription and asks for it again, a little later each time. */
  private subscriptionFailed(m: Member, feed: number, err: unknown, ref?: number): void {
    send(m, { type: 'sub-failed', feed, ref, message: `Không nhận được hình của người này (${(err as Error).message})` });
  }

  /** The admitted member publishing this feed. */
  private ownerOf(feed: number): Member {
    for (const x of this.core.members.values()) if (x.state === 'in' && x.sfu?.live && x.sfu.feed === feed) return x;
    throw new Error('Không có luồng hình này trong phòng (no such feed in this room)');
  }

  private async sfuOf(m: Member): Promise<SfuPeer> {
    const { room, deps } = this.core;
    if (room.mode !== 'sfu' || !room.janus_room) throw new Error('Phòng này gọi trực tiếp, không qua máy chủ (this room is peer-to-peer)');
    if (m.sfu) return m.sfu;
    const peer = await SfuPeer.open(
      deps.rooms.instanceFor(room),
      room.janus_room,
      m.id,
      () => this.core.broadcastMembers(),
      (feed, reason, ref) => this.subscriptionFailed(m, feed, new Error(`Janus: ${reason}`), ref),
    );
    // Removed (or the call ended) while Janus opened the session: nobody else would ever close it.
    if (this.core.members.get(m.id) !== m) {
      await peer.close().catch(() => undefined);
      throw new Error('Bạn không còn trong cuộc gọi (you are no longer in this call)');
    }
    m.sfu = peer;
    return m.sfu;
  }

  /** Asks every publisher for a keyframe (a recording starts at one). */
  async keyframes(): Promise<void> {
    for (const m of this.core.members.values()) await m.sfu?.requestKeyframe();
  }
}
