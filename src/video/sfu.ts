/**
 * One participant's media through Janus: a session on the room's instance, a publisher handle
 * (the participant's camera or screen) and one subscriber handle per feed they watch. The browser
 * never talks to Janus: SDP and ICE candidates pass through our signalling server, which checks
 * the participant on every message.
 */
import type { JanusEvent, JanusInstance, JanusSession } from './janus.ts';
import type { Jsep } from './protocol.ts';

/** One watched feed: its subscriber handle, the page's number for it (`ref`), and the mid of its video stream (for layer choice). */
interface Subscription {
  handle: number;
  ref?: number;
  videoMid?: string;
}

export class SfuPeer {
  private publisher?: number;
  /** Our feed in the room; subscribable once its media is up (Janus refuses earlier). */
  feed?: number;
  live = false;
  private readonly subs = new Map<number, Subscription>();

  private constructor(
    private readonly session: JanusSession,
    private readonly room: number,
    private readonly display: string,
    /** The feed became subscribable (media up) or went away. */
    private readonly onChange: () => void,
    /** Janus hung up one of our subscriptions (ICE or DTLS failed on its side): it must be made again. */
    private readonly onLost: (feed: number, reason: string, ref?: number) => void,
  ) {}

  static async open(
    instance: JanusInstance,
    room: number,
    display: string,
    onChange: () => void,
    onLost: (feed: number, reason: string, ref?: number) => void,
  ): Promise<SfuPeer> {
    return new SfuPeer(await instance.session(), room, display, onChange, onLost);
  }

  /** First offer: join the room as a publisher; later offers (ICE restart, new track) reconfigure. */
  async publish(offer: Jsep): Promise<Jsep> {
    let e: JanusEvent;
    if (this.publisher === undefined) {
      this.publisher = await this.session.attach((ev) => this.onPublisherEvent(ev));
      e = await this.session.message(
        this.publisher,
        { request: 'joinandconfigure', room: this.room, ptype: 'publisher', display: this.display, audio: true, video: true },
        offer,
      );
      this.feed = (e.plugindata?.data as { id?: number } | undefined)?.id;
    } else {
      e = await this.session.message(this.publisher, { request: 'configure', audio: true, video: true }, offer);
    }
    if (!e.jsep) throw new Error('Janus gave no answer to the publisher offer');
    return e.jsep as Jsep;
  }

  /** Janus offers the feed's streams; the browser answers with `start`. `ref`: the page's number for this subscription. */
  async subscribe(feed: number, ref?: number): Promise<Jsep> {
    const old = this.subs.get(feed);
    if (old !== undefined) await this.unsubscribe(feed);
    const handle = await this.session.attach((e) => {
      if (e.janus === 'hangup' && this.subs.get(feed)?.handle === handle) this.onLost(feed, String((e as { reason?: unknown }).reason ?? 'hangup'), ref);
    });
    const sub: Subscription = { handle, ref };
    this.subs.set(feed, sub);
    const e = await this.session.message(handle, { request: 'join', room: this.room, ptype: 'subscriber', streams: [{ feed }] });
    if (!e.jsep) throw new Error('Janus gave no offer for the subscription');
    const streams = (e.plugindata?.data as { streams?: { type?: string; mid?: string }[] } | undefined)?.streams ?? [];
    sub.videoMid = streams.find((s) => s.type === 'video')?.mid;
    return e.jsep as Jsep;
  }

  /**
   * The page's answer to Janus's offer; false when there is no such subscription or `ref` names
   * one since replaced (the answer to an old offer is dropped).
   */
  async start(feed: number, answer: Jsep, ref?: number): Promise<boolean> {
    const sub = this.subs.get(feed);
    if (!sub || !sameRef(sub, ref)) return false;
    await this.session.message(sub.handle, { request: 'start' }, answer);
    return true;
  }

  /** ICE restart of one subscription: Janus sends a fresh offer (a subscription gone or replaced must be made again). */
  async restartSubscription(feed: number, ref?: number): Promise<Jsep> {
    const e = await this.session.message(this.handleOf(feed, ref), { request: 'configure', restart: true });
    if (!e.jsep) throw new Error('Janus gave no offer for the ICE restart');
    return e.jsep as Jsep;
  }

  /** The handle of the subscription `ref` names (a page that does not number them: the feed's). */
  private handleOf(feed: number, ref?: number): number {
    const sub = this.subs.get(feed);
    if (!sub || !sameRef(sub, ref)) throw new Error(`not subscribed to feed ${feed}`);
    return sub.handle;
  }

  /** Simulcast: forward this layer of the feed to us (a feed sent in one layer ignores it). */
  async chooseLayer(feed: number, substream: 0 | 1 | 2): Promise<void> {
    const sub = this.subs.get(feed);
    if (sub?.videoMid === undefined) return;
    await this.session.message(sub.handle, { request: 'configure', streams: [{ mid: sub.videoMid, substream }] });
  }

  async unsubscribe(feed: number): Promise<void> {
    const handle = this.subs.get(feed)?.handle;
    this.subs.delete(feed);
    if (handle !== undefined) await this.session.detach(handle);
  }

  async trickle(target: 'pub' | number, candidate: unknown): Promise<void> {
    const handle = target === 'pub' ? this.publisher : this.subs.get(target)?.handle;
    if (handle !== undefined) await this.session.trickle(handle, candidate);
  }

  /** Asks this publisher's browser for a keyframe, so a new subscriber sees video at once. */
  async requestKeyframe(): Promise<void> {
    if (this.publisher !== undefined) await this.session.message(this.publisher, { request: 'configure', keyframe: true }).catch(() => undefined);
  }

  async close(): Promise<void> {
    await this.session.close();
  }

  private onPublisherEvent(e: JanusEvent): void {
    const data = e.plugindata?.data as { unpublished?: number | string } | undefined;
    if (e.janus === 'webrtcup' && !this.live) {
      this.live = true;
      this.onChange();
    } else if (data?.unpublished === 'ok' && this.live) {
      this.live = false;
      this.onChange();
    }
  }
}

/** Whether `ref` names this subscription (either side not numbering: yes). */
function sameRef(sub: Subscription, ref: number | undefined): boolean {
  return ref === undefined || sub.ref === undefined || sub.ref === ref;
}
