/**
 * A study page's first requests, started as early as the address is known — at the app's start
 * when the page is opened directly, or when the route renders — not after the session check, the
 * page's code and the viewer engine (each a round trip of 300 ms+ on a weak link). Two requests in
 * parallel: the study's details, and the Part 10 bytes of the image the viewer shows first
 * (`/api/imaging/studies/{id}/first-image`, which names its SOP Instance UID); the viewer hands
 * those bytes to its image loader instead of asking again. The viewer engine's code (≈ 480 kB gzip)
 * is fetched only once those bytes are in (`engineGate`), so the two do not share the link — at
 * once when the file's header says it is compressed (the page's preview, preview.ts, cannot draw it).
 *
 * Rules: nothing Cornerstone here (this file is in the app's first download, so it stays tiny);
 * the same guarded, audited API as the page itself (same-origin cookie); each early answer is used
 * once; early bytes are used only if they are the first image the details list; a failed early
 * request is simply made again the ordinary way.
 */
import type { StudyView } from '../../../src/imaging/contract.ts';
import { ApiError, apiGet, apiGetPreloaded } from '../api.ts';
import { seriesOf, sopOfImageId } from './shared.ts';

const started = new Set<string>();
const details = new Map<string, Promise<StudyView>>();
const images = new Map<string, Promise<ArrayBuffer>>();
const gates = new Map<string, Promise<void>>();

/** The transfer syntax UID in a Part 10 file's meta header (group 0002, explicit VR little endian); undefined until enough bytes are in. */
export function transferSyntaxOf(b: Uint8Array): string | undefined {
  if (b.length < 132 || String.fromCharCode(b[128], b[129], b[130], b[131]) !== 'DICM') return undefined;
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
  for (let at = 132; at + 8 <= b.length;) {
    const group = dv.getUint16(at, true);
    const element = dv.getUint16(at + 2, true);
    if (group !== 2) return undefined;
    const vr = String.fromCharCode(b[at + 4], b[at + 5]);
    const long = ['OB', 'OW', 'OF', 'SQ', 'UT', 'UN'].includes(vr);
    if (long && at + 12 > b.length) return undefined;
    const len = long ? dv.getUint32(at + 8, true) : dv.getUint16(at + 6, true);
    const start = at + (long ? 12 : 8);
    if (element === 0x0010) {
      if (start + len > b.length) return undefined;
      return String.fromCharCode(...b.subarray(start, start + len)).replace(/[\0 ]+$/, '');
    }
    at = start + len;
  }
  return undefined;
}

const UNCOMPRESSED = ['1.2.840.10008.1.2', '1.2.840.10008.1.2.1'];

/** Reads a response's body, calling `onHeader` once the transfer syntax is known (or the body ended without one). */
async function readDicom(r: Response, onHeader: (ts: string | undefined) => void): Promise<ArrayBuffer> {
  if (!r.body) {
    const buf = await r.arrayBuffer();
    onHeader(transferSyntaxOf(new Uint8Array(buf)));
    return buf;
  }
  const reader = r.body.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  let known = false;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(value);
    size += value.length;
    if (!known && size >= 132) {
      const head = parts.length === 1 ? value : concat(parts, size);
      const ts = transferSyntaxOf(head);
      if (ts) {
        known = true;
        onHeader(ts);
      }
    }
  }
  if (!known) onHeader(undefined);
  return concat(parts, size).buffer as ArrayBuffer;
}

function concat(parts: Uint8Array[], size: number): Uint8Array {
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const detailsPath = (id: string) => `/api/imaging/studies/${id}`;

/**
 * Starts fetching a study's details and its first image, then the viewer engine (its code is only
 * fetched once the details say this person may see the study). Once per study and page load:
 * later visits fetch the ordinary way.
 */
export function startStudy(id: string): void {
  if (started.has(id)) return;
  started.add(id);
  // The engine's code waits for the first image's bytes (or starts at once if they are compressed: no preview then).
  let open!: () => void;
  const gate = new Promise<void>((resolve) => (open = resolve));
  gates.set(id, gate);
  // The image first: the larger answer takes the connection the page itself came on (no new handshake).
  // Same mode, credentials and headers as the preload the server names for a study page opened
  // directly (src/http/web.ts), so the browser hands over that answer instead of asking again.
  const bytes = fetch(`${detailsPath(id)}/first-image`, { credentials: 'same-origin' }).then(async (r) => {
    if (!r.ok) throw new Error(`${r.status}`);
    const buf = await readDicom(r, (ts) => {
      // Uncompressed: the page's preview will draw it — its small chunk (dicom-parser, ≈ 8 kB gzip) comes alongside.
      if (ts && UNCOMPRESSED.includes(ts)) void import('./preview.ts').catch(() => undefined);
      else open();
    });
    return { sop: r.headers.get('x-sop-instance-uid'), buf };
  });
  bytes.then(open, open);
  const p = apiGetPreloaded<StudyView>(detailsPath(id));
  details.set(id, p);
  p.then((v) => {
    const first = seriesOf(v.study, v.studyUid)[0]?.imageIds[0];
    if (first)
      images.set(
        first,
        bytes.then((b) => {
          if (b.sop !== sopOfImageId(first)) throw new Error('not the first image');
          return b.buf;
        }),
      );
    void gate
      .then(() => import('./viewer.ts'))
      .then((m) => m.prepare())
      .catch(() => undefined);
  }).catch(() => {
    details.delete(id);
    open();
  });
}

/** Resolves when the viewer engine's code may be fetched for this study (at once when no early request was made). */
export function engineGate(id: string): Promise<void> {
  return gates.get(id) ?? Promise.resolve();
}

/**
 * The study's details: the early request when one is under way, otherwise a new one. A refusal
 * (403) or absence (404) stands — asked again it would only add a denial to the audit log; other
 * failures (offline, or not yet signed in when the app started) are asked again.
 */
export function studyDetails(id: string): Promise<StudyView> {
  const early = details.get(id);
  details.delete(id);
  const again = () => apiGet<StudyView>(detailsPath(id));
  return early ? early.catch((e: unknown) => (e instanceof ApiError && (e.status === 403 || e.status === 404) ? Promise.reject(e) : again())) : again();
}

/** The early bytes of an image, left for the viewer: the page's preview (preview.ts) draws them first. */
export function peekImage(imageId: string): Promise<ArrayBuffer> | undefined {
  return images.get(imageId);
}

/** The early bytes of an image (by its Cornerstone image id), once; undefined when none were fetched. */
export function takeImage(imageId: string): Promise<ArrayBuffer> | undefined {
  const p = images.get(imageId);
  images.delete(imageId);
  return p;
}
