/**
 * Noticing a lost Janus, and moving a room's media to another one.
 *
 * JanusWatch (several instances in JANUS_URL) asks every instance for `/info` (a short deadline)
 * every PROBE_MS; after FAIL_AFTER failed probes in a row the instance is down and `onDown` runs
 * once (the live rooms of this node that were on it move). It is up again after one good answer.
 * A supervised local janus is not probed: its supervisor says when it restarted after a crash
 * (it comes back empty), and its rooms are made again there (video/plugin.ts).
 *
 * moveRoomMedia makes a new VideoRoom room on a live instance and points the platform room at it
 * in one unit of work with its audit entry (`video.media-moved`), as the platform (the video
 * component) — no person acted. The update is conditional on the old instance, so two nodes (or
 * two probes) moving the same room move it once.
 */
import type { FhirStore } from '../fhir/store.ts';
import type { JanusInstance } from './janus.ts';
import { appointmentIdOf, type Room, type RoomService } from './rooms.ts';

export const PROBE_MS = 500;
export const FAIL_AFTER = 3;
const PROBE_DEADLINE_MS = 1500;

export class JanusWatch {
  private readonly fails = new Map<string, number>();
  private readonly down = new Set<string>();
  private timer?: NodeJS.Timeout;
  private probing = false;

  constructor(
    readonly instances: JanusInstance[],
    private readonly onDown: (lost: JanusInstance) => void,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.probe(), PROBE_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }

  isUp(url: string | null): boolean {
    return !!url && !this.down.has(url);
  }

  /** The instances that answered their last probe. */
  live(): JanusInstance[] {
    return this.instances.filter((i) => !this.down.has(i.url));
  }

  /** A live instance for a room leaving `lost` (another if there is one; waits up to 30 s for one to answer). */
  async target(lost: string | null): Promise<JanusInstance | undefined> {
    for (let i = 0; i < 60; i++) {
      const up = this.live();
      const others = up.filter((j) => j.url !== lost);
      const pick = others.length ? others : up;
      if (pick.length) return pick[Math.floor(Math.random() * pick.length)];
      await new Promise((r) => setTimeout(r, PROBE_MS));
    }
    return undefined;
  }

  private async probe(): Promise<void> {
    if (this.probing) return;
    this.probing = true;
    try {
      await Promise.all(
        this.instances.map(async (i) => {
          const ok = await fetch(`${i.url}/info`, { signal: AbortSignal.timeout(PROBE_DEADLINE_MS) }).then(
            (r) => r.ok,
            () => false,
          );
          if (ok) {
            this.fails.set(i.url, 0);
            this.down.delete(i.url);
            return;
          }
          const n = (this.fails.get(i.url) ?? 0) + 1;
          this.fails.set(i.url, n);
          if (n >= FAIL_AFTER && !this.down.has(i.url)) {
            this.down.add(i.url);
            this.onDown(i);
          }
        }),
      );
    } finally {
      this.probing = false;
    }
  }
}

export const MOVE_REASON = "video: the room's media server was lost; the room moves to another";

/**
 * Moves an SFU room's media to `target`: a new VideoRoom room there, then the platform room row
 * updated with its audit entry. Returns the room as it now is (another node may have moved it first).
 */
export async function moveRoomMedia(store: FhirStore, rooms: RoomService, room: Room, target: JanusInstance): Promise<Room> {
  const janusRoom = 100_000 + Math.floor(Math.random() * 900_000_000);
  await target.createRoom(janusRoom, 100, rooms.roomSecret(room.id), rooms.recordingsDir ? `${rooms.recordingsDir}/${room.id}` : undefined);
  const position = (url: string | null) => rooms.janus.findIndex((j) => j.url === url) + 1;
  const moved = await store.system(MOVE_REASON, 'video').transaction(async (tx) => {
    const r = (
      await tx.sql.query<Room>(
        'UPDATE video_room SET janus_url = $1, janus_room = $2 WHERE id = $3 AND janus_url IS NOT DISTINCT FROM $4 AND ended_at IS NULL RETURNING *',
        [target.url, janusRoom, room.id, room.janus_url],
      )
    ).rows[0];
    if (!r) return undefined;
    const appointmentId = appointmentIdOf(room);
    // The instances by their place in JANUS_URL (1-based): no addresses in the audit trail.
    await tx.record({
      action: 'video.media-moved',
      ...(appointmentId ? { resourceType: 'Appointment', resourceId: appointmentId } : {}),
      detail: { room: room.id, from: position(room.janus_url), to: position(target.url) },
    });
    return r;
  });
  if (moved) return moved;
  // Someone else moved it: our new Janus room is not needed.
  await target.destroyRoom(janusRoom, rooms.roomSecret(room.id)).catch(() => undefined);
  return (await store.system(MOVE_REASON, 'video').sql.query<Room>('SELECT * FROM video_room WHERE id = $1', [room.id])).rows[0] ?? room;
}
