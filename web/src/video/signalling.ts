/**
 * The signalling socket: JSON messages to and from the room on the server. When the network drops
 * it says so at once, then reconnects with the resume token so the person keeps their place.
 */
import type { ClientMessage, ServerMessage } from '../../../src/video/protocol.ts';

export type { ServerMessage } from '../../../src/video/protocol.ts';

export type LinkState = 'connecting' | 'open' | 'reconnecting' | 'closed';

export class Signalling {
  private ws?: WebSocket;
  private resume?: string;
  private closedForGood = false;
  private retry = 0;
  private timer?: ReturnType<typeof setTimeout>;
  private readonly queue: string[] = [];

  constructor(
    private readonly roomId: string,
    private readonly invite: string | undefined,
    private readonly onMessage: (m: ServerMessage) => void,
    private readonly onState: (s: LinkState, reason?: string) => void,
  ) {
    addEventListener('offline', this.goneOffline);
    addEventListener('online', this.backOnline);
  }

  open(): void {
    this.onState(this.resume ? 'reconnecting' : 'connecting');
    const q = new URLSearchParams();
    if (this.invite) q.set('invite', this.invite);
    if (this.resume) q.set('resume', this.resume);
    const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/video/rooms/${encodeURIComponent(this.roomId)}/ws?${q}`);
    this.ws = ws;
    ws.onopen = () => {
      this.retry = 0;
      for (const m of this.queue.splice(0)) ws.send(m);
    };
    ws.onmessage = (e) => {
      const msg = JSON.parse(String(e.data)) as ServerMessage;
      if (msg.type === 'welcome') {
        this.resume = msg.you.resume;
        this.onState('open');
      }
      if (msg.type === 'refused' || msg.type === 'ended') this.closedForGood = true;
      this.onMessage(msg);
    };
    ws.onclose = (e) => {
      if (this.ws !== ws) return;
      // 1000 = left or replaced; 4xxx = refused, removed, ended: do not come back by ourselves.
      if (this.closedForGood || e.code === 1000 || (e.code >= 4000 && e.code < 5000)) {
        this.closedForGood = true;
        this.onState('closed', e.reason);
        return;
      }
      this.scheduleReconnect();
    };
  }

  private scheduleReconnect(): void {
    this.onState('reconnecting');
    clearTimeout(this.timer);
    const delay = Math.min(4000, 250 * 2 ** this.retry++);
    this.timer = setTimeout(() => {
      if (navigator.onLine) this.open();
      else this.scheduleReconnect();
    }, delay);
  }

  /** The browser knows the network is gone before the socket does: say "reconnecting" at once. */
  private readonly goneOffline = () => {
    if (this.closedForGood || !this.ws) return;
    const ws = this.ws;
    this.ws = undefined;
    ws.onclose = null;
    ws.close();
    this.scheduleReconnect();
  };

  private readonly backOnline = () => {
    if (this.closedForGood) return;
    clearTimeout(this.timer);
    this.retry = 0;
    if (!this.ws || this.ws.readyState > 1) this.open();
  };

  send(msg: ClientMessage): void {
    const text = JSON.stringify(msg);
    if (this.ws?.readyState === 1) this.ws.send(text);
    else if (msg.type !== 'trickle' && this.queue.length < 100) this.queue.push(text);
  }

  get connected(): boolean {
    return this.ws?.readyState === 1;
  }

  close(): void {
    this.closedForGood = true;
    clearTimeout(this.timer);
    removeEventListener('offline', this.goneOffline);
    removeEventListener('online', this.backOnline);
    if (this.ws?.readyState === 1) this.ws.send(JSON.stringify({ type: 'leave' }));
    this.ws?.close(1000);
  }
}
