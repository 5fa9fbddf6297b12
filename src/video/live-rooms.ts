/**
 * The live rooms of this node (a room's members must reach the same node: route by room id), the
 * lobby counts the clinician's visit queue shows, and fresh TURN credentials for everyone in a
 * call before theirs expire.
 */
import { LiveRoom } from './live.ts';
import type { LiveDeps } from './members.ts';
import type { Room } from './rooms.ts';

export class LiveRooms {
  private readonly rooms = new Map<string, LiveRoom>();
  private readonly iceRefresh?: ReturnType<typeof setInterval>;

  constructor(private readonly deps: LiveDeps) {
    // TURN credentials expire: everyone in a room gets fresh ones at half their lifetime, so a
    // newcomer's connection or an ICE restart late in a long session still gets through.
    const every = deps.rooms.iceRefreshMs;
    if (every) {
      this.iceRefresh = setInterval(() => this.refreshIce(), every);
      this.iceRefresh.unref();
    }
  }

  /** The live room of an open room (made when the first person comes in). */
  get(room: Room): LiveRoom {
    let live = this.rooms.get(room.id);
    if (!live || live.ended) {
      live = new LiveRoom(room, this.deps, () => {
        if (this.rooms.get(room.id) === live) this.rooms.delete(room.id);
      });
      this.rooms.set(room.id, live);
    }
    return live;
  }

  /** A Janus was lost: this node's live rooms on it move to another instance, and their members renegotiate. */
  async mediaLost(url: string): Promise<void> {
    for (const r of [...this.rooms.values()]) {
      if (r.ended || r.room.mode !== 'sfu' || r.room.janus_url !== url) continue;
      try {
        const moved = await this.deps.media?.move(r.room);
        if (moved && !moved.ended_at && (moved.janus_url !== url || moved.janus_room !== r.room.janus_room)) r.mediaMoved(moved);
      } catch (err) {
        this.deps.log?.warn({ err: (err as Error).message, room: r.room.id }, 'video: room media not moved');
      }
    }
  }

  /** Fresh TURN credentials to everyone in every live room of this node. */
  refreshIce(): void {
    for (const r of this.rooms.values()) r.refreshIce();
  }

  /** People waiting in the lobby of the live room for this record (e.g. Appointment/123); 0 when none is open here. */
  waitingFor(ref: string): number {
    for (const r of this.rooms.values()) if (r.room.ref === ref && !r.ended) return r.waiting;
    return 0;
  }

  /**
   * A live room's people by facility (staff admitted and connected): how many, and the worst
   * connection quality their clients last reported — the meeting page's bridge-point readout.
   */
  siteQuality(ref: string): Map<string, { connected: number; quality: 'good' | 'fair' | 'poor' | 'unknown' }> {
    const out = new Map<string, { connected: number; quality: 'good' | 'fair' | 'poor' | 'unknown' }>();
    const rank = { poor: 0, fair: 1, good: 2, unknown: 3 } as const;
    for (const r of this.rooms.values()) {
      if (r.room.ref !== ref || r.ended) continue;
      for (const m of r.members.values()) {
        const org = m.entrant.organizationId;
        if (!org || m.state !== 'in' || !m.socket) continue;
        const had = out.get(org);
        const q = m.media.quality;
        out.set(org, { connected: (had?.connected ?? 0) + 1, quality: !had || rank[q] < rank[had.quality] ? q : had.quality });
      }
    }
    return out;
  }

  /** How many rooms are live on this node and how many people are connected to them (metrics). */
  stats(): { rooms: number; participants: number } {
    let participants = 0;
    for (const r of this.rooms.values()) participants += r.members.size;
    return { rooms: this.rooms.size, participants };
  }

  async close(): Promise<void> {
    clearInterval(this.iceRefresh);
    for (const r of this.rooms.values()) await r.close();
    this.rooms.clear();
  }
}
