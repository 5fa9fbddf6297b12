/**
 * One participant's media through Janus: a session on the room's instance, a publisher handle
 * (the participant's camera or screen) and one subscriber handle per feed they watch. The browser
 * never talks to Janus: SDP and ICE candidates pass through our signalling server, which checks
 * the participant on every message.
 */
import type { JanusEvent, JanusInstance, JanusSession } from './janus.ts';
import type { Jsep } from './protocol.ts';

export class SfuPeer {
  private publisher?: number;
  /** Our feed in the room; subscribable once its media is up (Janus refuses earlier). */
  feed?: number;
  live = false;
  /** Per watched feed: the subscriber handle, the page's number for it, and the mid of its video stream (for layer choice). */
  private readonly subs = new Map<number, { handle: number; ref?: number; videoMid?: string }>();

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
    const sub: { handle: number; ref?: number; videoMid?: string } = { handle, ref };
    this.subs.set(feed, sub);
    const e = await this.session.message(handle, { request: 'join', room: this.room, ptype: 'subscriber', streams: [{ feed }] });
    if (!e.jsep) throw new Error('Janus gave no offer for the subscription');
    const streams = (e.plugindata?.data as { streams?: { type?: string; mid?: string }[] } | undefined)?.streams ?? [];
    sub.videoMid = streams.find((s) => s.type === 'video')?.mid;
    return e.jsep as Jsep;
  }

  /** Whether `ref` names the subscription of this feed now (a page that does not number them: always). */
  isCurrent(feed: number, ref: number | undefined): boolean {
    const sub = this.subs.get(feed);
    return sub !== undefined && (ref === undefined || sub.ref === undefined || sub.ref === ref);
  }

  async start(feed: number, answer: Jsep): Promise<void> {
    const handle = this.subs.get(feed)?.handle;
    if (handle === undefined) throw new Error(`not subscribed to feed ${feed}`);
    await this.session.message(handle, { request: 'start' }, answer);
  }

  /** ICE restart of one subscription: Janus sends a fresh offer (a subscription already gone must be made again). */
  async restartSubscription(feed: number): Promise<Jsep> {
    const handle = this.subs.get(feed)?.handle;
    if (handle === undefined) throw new Error(`not subscribed to feed ${feed}`);
    const e = await this.session.message(handle, { request: 'configure', restart: true });
    if (!e.jsep) throw new Error('Janus gave no offer for the ICE restart');
    return e.jsep as Jsep;
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
