/**
 * Live video as a plugin: Janus (JANUS_URL, or a supervised local janus, or none), rooms tied to
 * the record, the signalling server (WebSocket), recordings and their archive (including what a
 * crash left behind), and an orderly stop. Everything reaches the record through `app.store`.
 *
 * The case-conference domain is used when it runs (registered before video): a bridge point's
 * presence in a meeting's room goes on the meeting's Encounter through `app.consults.attendance`.
 */
import { join } from 'node:path';
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import fastifyWebsocket from '@fastify/websocket';
import { startJanus, type JanusInstance } from './janus.ts';
import { JanusWatch, moveRoomMedia } from './janus-watch.ts';
import { archiveLeftovers, RecordingArchive } from './recordings.ts';
import { LiveRooms } from './live-rooms.ts';
import { RoomService, type Room } from './rooms.ts';
import { videoRoutes } from './routes.ts';

declare module 'fastify' {
  interface FastifyInstance {
    rooms: RoomService;
    live: LiveRooms;
    recordings: RecordingArchive;
    /** The Janus instances large video sessions go through (none: mesh only). */
    janus: JanusInstance[];
  }
}

async function videoPlugin(app: FastifyInstance): Promise<void> {
  const { config } = app;
  const janus = await startJanus(config);
  const list = (v: string) =>
    v
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean);
  const rooms = new RoomService(
    app.store,
    janus.instances,
    {
      stunUrls: list(config.STUN_URLS),
      turnUrls: list(config.TURN_URLS),
      turnSecret: config.TURN_SECRET,
      turnTtlSeconds: config.TURN_TTL_SECONDS,
      policy: config.CAUYTE_ICE_POLICY,
    },
    janus.reason,
    app.secret.hmac('video-room-secrets'),
    join(config.dataDir, 'recordings'),
  );
  const recordings = new RecordingArchive(rooms.recordingsDir!, app.store);
  const consults = app.hasDecorator('consults') ? app.consults : undefined;
  // Several Janus (JANUS_URL): a probe notices a lost one, and its rooms move to another.
  const watch = janus.instances.length > 1 ? new JanusWatch(janus.instances, (lost) => void live.mediaLost(lost.url)) : undefined;
  type Move = (room: Room) => Promise<Room | undefined>;
  const move: Move | undefined = watch
    ? async (room) => {
        const target = await watch.target(room.janus_url);
        return target ? moveRoomMedia(app.store, rooms, room, target) : undefined;
      }
    : // The supervised local janus, restarted after a crash, came back empty: its rooms are made again there.
      janus.supervisor && (async (room) => moveRoomMedia(app.store, rooms, room, janus.instances[0]));
  const media = move && { isUp: (url: string | null) => !watch || watch.isUp(url), move };
  if (watch) rooms.janusUp = (url) => watch.isUp(url);
  const live = new LiveRooms({ rooms, store: app.store, consults, recordings, log: app.log, media, bus: app.bus });
  watch?.start();
  if (janus.supervisor) janus.supervisor.onRestart = () => void live.mediaLost(janus.instances[0].url);
  // The meeting page shows each bridge point's people connected now and their connection quality.
  consults?.useLiveSites((ref) => live.siteQuality(ref));
  app.decorate('rooms', rooms);
  app.decorate('live', live);
  app.decorate('recordings', recordings);
  app.decorate('janus', janus.instances);
  await app.register(fastifyWebsocket, { options: { maxPayload: 128 * 1024 } });
  await app.register(videoRoutes, { rooms, live, recordings });
  // Recordings a crash left unprocessed: made playable in the background.
  const leftovers = archiveLeftovers(recordings, rooms, app.store).catch((err: Error) =>
    app.log.warn({ err: err.message }, 'leftover recordings not archived'),
  );
  app.addHook('onClose', async () => {
    watch?.stop();
    await live.close();
    await janus.supervisor?.stop();
    await leftovers;
    await recordings.idle();
  });
}

export default fp(videoPlugin, { name: 'video', dependencies: ['events', 'fhir'] });
