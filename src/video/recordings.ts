/**
 * Recordings of SFU sessions (made only with every participant's consent, see consent.ts). While a
 * room records, Janus writes each publisher's audio and video as raw RTP dumps (.mjr). When the
 * recording stops, each person's pair becomes one playable WebM: `janus-pp-rec` (Janus's own tool,
 * Debian package janus-tools) depacketises each dump, `ffmpeg` puts VP8 and Opus in one file
 * without re-encoding, aligned by the time each dump's first packet arrived. The file is kept in
 * the data folder and listed in the record as a DocumentReference; the raw dumps are deleted.
 * Dumps left by a crash are processed at the next start (the DocumentReference's identifier makes
 * that idempotent). Writing them is the platform's own work (a system repository of the video
 * component, audited with its reason); listing them is done through the viewer's repository.
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Appointment, DocumentReference } from '@medplum/fhirtypes';
import type { Repository } from '../fhir/repository.ts';
import type { FhirStore } from '../fhir/store.ts';
import type { RecordingItem } from './contract.ts';
import { appointmentIdOf, patientsOf, type RoomService } from './rooms.ts';

const execFileP = promisify(execFile);
/** A tool that hangs (a damaged dump) must not hold the room's queue forever: killed after 5 minutes. */
const TOOL_TIMEOUT_MS = 5 * 60_000;
const run = (file: string, args: string[]) => execFileP(file, args, { timeout: TOOL_TIMEOUT_MS, killSignal: 'SIGKILL', maxBuffer: 4 * 1024 * 1024 });

export const RECORDING_TOOLS = { ppRec: '/usr/bin/janus-pp-rec', ffmpeg: '/usr/bin/ffmpeg', ffprobe: '/usr/bin/ffprobe' };
export const RECORDING_ID_SYSTEM = 'urn:cauyte:video-recording';
export const RECORDING_ROOM_SYSTEM = 'urn:cauyte:video-room';
export const RECORDING_CATEGORY = { system: 'urn:cauyte:document-category', code: 'video-recording', display: 'Bản ghi hình cuộc gọi video' };

/** Who published a feed while the room recorded (the dumps are named by feed id only). */
export interface RecordedFeed {
  feed: number;
  name: string;
  /** Practitioner/… or Patient/… */
  reference?: string;
}

export type { RecordingItem } from './contract.ts';

/** Why the platform itself writes recordings into the record (the audit row's reason). */
export const ARCHIVE_REASON = 'video recording archive (made with every participant’s consent)';

/** `videoroom-<room>-user-<feed>-<µs since 1970>-<audio|video>[-<mindex>].mjr` (Janus 1.x). */
const DUMP = /^(videoroom-\d+-user-(\d+)-(\d{10,17}))-(audio|video)(?:-\d+)?\.mjr$/;
const KEY = /^videoroom-\d+-user-\d+-\d{10,17}$/;

export interface DumpGroup {
  key: string;
  feed: number;
  startedMicros: number;
  audio?: string;
  video?: string;
}

export class RecordingArchive {
  /** One archiving run at a time per room. */
  private readonly chains = new Map<string, Promise<unknown>>();

  constructor(
    readonly dir: string,
    private readonly store: FhirStore,
    private readonly tools = RECORDING_TOOLS,
  ) {}

  /** Why recordings cannot be made playable here, or undefined when they can. */
  missingTools(): string | undefined {
    const lacking = [this.tools.ppRec, this.tools.ffmpeg, this.tools.ffprobe].filter((t) => !existsSync(t));
    return lacking.length
      ? `Máy chủ thiếu công cụ xử lý bản ghi (${lacking.join(', ')}): cài gói Debian janus-tools và ffmpeg (install the Debian packages janus-tools and ffmpeg)`
      : undefined;
  }

  roomDir(roomId: string): string {
    if (!/^[A-Za-z0-9-]{1,64}$/.test(roomId)) throw new Error('bad room id');
    return join(this.dir, roomId);
  }

  /** Notes who publishes which feed, before Janus starts writing (kept next to the dumps). */
  async remember(roomId: string, feeds: RecordedFeed[]): Promise<void> {
    const dir = this.roomDir(roomId);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const known = await this.participants(roomId);
    for (const f of feeds) known[String(f.feed)] = f;
    await atomicWrite(join(dir, 'participants.json'), JSON.stringify(known));
  }

  private async participants(roomId: string): Promise<Record<string, RecordedFeed>> {
    try {
      return JSON.parse(await readFile(join(this.roomDir(roomId), 'participants.json'), 'utf8')) as Record<string, RecordedFeed>;
    } catch {
      return {};
    }
  }

  /** Is something still waiting to be made playable (raw dumps present or a run under way)? */
  async processing(roomId: string): Promise<boolean> {
    if (this.chains.has(roomId)) return true;
    try {
      return (await readdir(this.roomDir(roomId))).some((f) => DUMP.test(f));
    } catch {
      return false;
    }
  }

  /** Rooms with raw dumps (after a crash: the server died before they were processed). */
  async pendingRooms(): Promise<string[]> {
    let rooms: string[];
    try {
      rooms = await readdir(this.dir);
    } catch {
      return [];
    }
    const out: string[] = [];
    for (const r of rooms) if (/^[A-Za-z0-9-]{1,64}$/.test(r) && (await this.processing(r))) out.push(r);
    return out;
  }

  /**
   * Turns the room's closed dumps into stored recordings. Call it after Janus stopped recording
   * (its files are closed then). Runs after any earlier run for the same room.
   */
  archive(roomId: string, context: { patient?: string; related?: string }): Promise<DocumentReference[]> {
    const previous = this.chains.get(roomId) ?? Promise.resolve();
    const next = previous.catch(() => undefined).then(() => this.archiveNow(roomId, context));
    this.chains.set(roomId, next);
    void next
      .finally(() => {
        if (this.chains.get(roomId) === next) this.chains.delete(roomId);
      })
      .catch(() => undefined);
    return next;
  }

  private async archiveNow(roomId: string, context: { patient?: string; related?: string }): Promise<DocumentReference[]> {
    const dir = this.roomDir(roomId);
    if (this.missingTools()) throw new Error(this.missingTools());
    const files = await readdir(dir).catch(() => [] as string[]);
    // Work folders and half-written files a crash left behind (runs for one room never overlap).
    for (const f of files) if (f.startsWith('.work-') || /\.webm\.[0-9a-f]{8}\.tmp$/.test(f)) await rm(join(dir, f), { recursive: true, force: true });
    const groups = groupDumps(files, dir);
    const people = await this.participants(roomId);
    // Each person's recording on its own: one that cannot be processed (its dumps stay for the next
    // start) does not hold back the others.
    const out: DocumentReference[] = [];
    const failed: string[] = [];
    for (const g of groups) {
      try {
        const doc = await this.archiveGroup(roomId, g, people[String(g.feed)], context);
        if (doc) out.push(doc);
      } catch (err) {
        failed.push(`${g.key}: ${(err as Error).message.slice(0, 200)}`);
      }
    }
    if (failed.length) throw new Error(`recordings not processed (kept for the next start): ${failed.join('; ')}`);
    return out;
  }

  private async archiveGroup(
    roomId: string,
    g: DumpGroup,
    who: RecordedFeed | undefined,
    context: { patient?: string; related?: string },
  ): Promise<DocumentReference | undefined> {
    const dir = this.roomDir(roomId);
    const work = join(dir, `.work-${randomBytes(4).toString('hex')}`);
    await mkdir(work, { recursive: true, mode: 0o700 });
    try {
      // A dump that holds no packet (the person joined with the camera off, say) gives no file.
      const audio = g.audio ? await this.depacketise(g.audio, join(work, 'a.opus')) : undefined;
      const video = g.video ? await this.depacketise(g.video, join(work, 'v.webm')) : undefined;
      if (!audio && !video) {
        await this.discard(g);
        return undefined;
      }
      const first = Math.min(...[audio, video].filter((x): x is Depacketised => !!x).map((x) => x.firstPacketMicros));
      const inputs: string[] = [];
      for (const x of [video, audio]) if (x) inputs.push('-itsoffset', ((x.firstPacketMicros - first) / 1e6).toFixed(3), '-i', x.file);
      const maps = video && audio ? ['-map', '0:v:0', '-map', '1:a:0'] : [];
      const muxed = join(work, 'out.webm');
      await run(this.tools.ffmpeg, ['-nostdin', '-loglevel', 'error', '-y', ...inputs, ...maps, '-c', 'copy', '-f', 'webm', muxed]);
      const seconds = Number((await run(this.tools.ffprobe, ['-v', 'error', '-show_entries', 'format=duration', '-of', 'csv=p=0', muxed])).stdout.trim()) || 0;
      const bytes = await readFile(muxed);
      // Durable before it is listed: write, fsync, rename; then the record; then drop the dumps.
      const final = join(dir, `${g.key}.webm`);
      await atomicWrite(final, bytes);
      const contentType = video ? 'video/webm' : 'audio/webm';
      const start = new Date(Math.floor(first / 1000)).toISOString();
      const name = who?.name ?? `Người tham gia ${g.feed}`;
      const doc: DocumentReference = {
        resourceType: 'DocumentReference',
        identifier: [
          { system: RECORDING_ID_SYSTEM, value: `${roomId}/${g.key}` },
          { use: 'secondary', system: RECORDING_ROOM_SYSTEM, value: roomId },
        ],
        status: 'current',
        type: { text: 'Bản ghi hình cuộc gọi video (video call recording)' },
        category: [{ coding: [RECORDING_CATEGORY] }],
        ...(context.patient ? { subject: { reference: context.patient } } : {}),
        date: start,
        author: [{ ...(who?.reference ? { reference: who.reference } : {}), display: name }] as DocumentReference['author'],
        description: `Bản ghi hình — ${name}`,
        securityLabel: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality', code: 'R', display: 'restricted' }] }],
        content: [
          {
            attachment: {
              contentType,
              url: `/api/video/rooms/${roomId}/recordings/${g.key}`,
              size: bytes.length,
              hash: createHash('sha1').update(bytes).digest('base64'),
              title: `${name} — ${Math.round(seconds)} s`,
              creation: start,
            },
          },
        ],
        context: {
          ...(context.related ? { related: [{ reference: context.related }] } : {}),
          period: { start, end: new Date(Math.floor(first / 1000) + Math.round(seconds * 1000)).toISOString() },
        },
      };
      // The platform's own work (no one is acting): one audited unit per recording.
      const written = await this.store.system(ARCHIVE_REASON, 'video').transaction(async (tx) => {
        const saved = await tx.create(doc, { ifNoneExist: `identifier=${RECORDING_ID_SYSTEM}|${roomId}/${g.key}` });
        await tx.record({ action: 'video.recording.archive', resourceType: 'DocumentReference', resourceId: saved.id, detail: { room: roomId, key: g.key } });
        return saved;
      });
      await this.discard(g);
      return written;
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  }

  private async discard(g: DumpGroup): Promise<void> {
    for (const f of [g.audio, g.video]) if (f) await rm(f, { force: true });
  }

  private async depacketise(mjr: string, target: string): Promise<Depacketised | undefined> {
    // Janus writes a dump's header with its first packet: no header, no media in it.
    const json = (await run(this.tools.ppRec, ['-j', '-d', '0', mjr])).stdout.trim();
    if (!json) return undefined;
    const header = JSON.parse(json) as { u?: number; s?: number };
    await run(this.tools.ppRec, ['-d', '0', mjr, target]).catch(() => undefined);
    if (!existsSync(target) || (await stat(target)).size === 0) return undefined;
    return { file: target, firstPacketMicros: header.u ?? header.s ?? 0 };
  }

  /** Resolves when no archiving run is under way (shutdown waits for it). */
  async idle(): Promise<void> {
    while (this.chains.size) await Promise.allSettled([...this.chains.values()]);
  }

  /** The room's stored recordings, oldest first, as this repository may see them. */
  async list(repo: Repository, roomId: string): Promise<RecordingItem[]> {
    const docs = await repo.search<DocumentReference>('DocumentReference', { identifier: `${RECORDING_ROOM_SYSTEM}|${roomId}`, _sort: 'date', _count: '200' });
    return docs.map((d) => {
      const a = d.content[0].attachment;
      const key = d.identifier?.find((i) => i.system === RECORDING_ID_SYSTEM)?.value?.split('/')[1] ?? '';
      return {
        key,
        name: d.author?.[0]?.display ?? '',
        start: d.date ?? '',
        seconds: Math.round((Date.parse(d.context?.period?.end ?? '') - Date.parse(d.context?.period?.start ?? '')) / 1000) || 0,
        size: a.size ?? 0,
        contentType: a.contentType ?? 'video/webm',
        url: a.url ?? '',
        documentReference: `DocumentReference/${d.id}`,
      };
    });
  }

  /** The stored file of one recording, or undefined. */
  async file(roomId: string, key: string): Promise<{ path: string; size: number } | undefined> {
    if (!KEY.test(key)) return undefined;
    const path = join(this.roomDir(roomId), `${key}.webm`);
    try {
      return { path, size: (await stat(path)).size };
    } catch {
      return undefined;
    }
  }
}

/**
 * Pairs each person's audio and video dumps. Janus stamps each stream's file with the moment its
 * own recorder started, so the pair's names differ by a few milliseconds; a person's next pair
 * (after a pause for consent) starts seconds later.
 */
export function groupDumps(files: string[], dir: string): DumpGroup[] {
  const dumps = files
    .map((f) => ({ f, m: DUMP.exec(f) }))
    .filter((x): x is { f: string; m: RegExpExecArray } => !!x.m)
    .map(({ f, m }) => ({
      file: join(dir, f),
      prefix: m[1].slice(0, m[1].lastIndexOf('-')),
      feed: Number(m[2]),
      micros: Number(m[3]),
      kind: m[4] as 'audio' | 'video',
    }))
    .sort((a, b) => a.micros - b.micros);
  const groups: DumpGroup[] = [];
  const open = new Map<number, DumpGroup>();
  for (const d of dumps) {
    let g = open.get(d.feed);
    if (!g || g[d.kind] || d.micros - g.startedMicros > PAIR_WITHIN_MICROS) {
      g = { key: `${d.prefix}-${d.micros}`, feed: d.feed, startedMicros: d.micros };
      groups.push(g);
      open.set(d.feed, g);
    }
    g[d.kind] = d.file;
  }
  return groups;
}

const PAIR_WITHIN_MICROS = 5_000_000;

interface Depacketised {
  file: string;
  /** When Janus wrote the dump's first packet: aligns audio with video. */
  firstPacketMicros: number;
}

/** Write to a temporary name, fsync, rename: a crash leaves the old file or the new, never half. */
async function atomicWrite(path: string, data: string | Buffer): Promise<void> {
  const tmp = `${path}.${randomBytes(4).toString('hex')}.tmp`;
  await writeFile(tmp, data, { mode: 0o600 });
  const h = await open(tmp, 'r');
  try {
    await h.sync();
  } finally {
    await h.close();
  }
  await rename(tmp, path);
}

/**
 * After a crash: rooms whose dumps were never processed. Janus is asked to stop recording first
 * (a supervised Janus restarted with the platform has forgotten the room; that is fine).
 */
export async function archiveLeftovers(archive: RecordingArchive, rooms: RoomService, store: FhirStore): Promise<number> {
  let n = 0;
  const repo = store.system('video recordings left by a crash', 'video');
  for (const id of await archive.pendingRooms()) {
    const room = await rooms.get(repo, id).catch(() => undefined);
    if (!room) continue;
    if (room.janus_room && !room.ended_at)
      await rooms
        .instanceFor(room)
        .setRecording(room.janus_room, rooms.roomSecret(room.id), false)
        .catch(() => undefined);
    const appointmentId = appointmentIdOf(room);
    const a = appointmentId ? await repo.tryRead<Appointment>('Appointment', appointmentId) : undefined;
    const patient = patientsOf(a)[0];
    n += (await archive.archive(id, { patient: patient ? `Patient/${patient}` : undefined, related: room.ref ?? undefined })).length;
  }
  return n;
}
