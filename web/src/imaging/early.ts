/**
 * A study page's first requests, started as early as the address is known — at the app's start
 * when the page is opened directly, or when the route renders — not after the session check, the
 * page's code and the viewer engine (each a round trip of 300 ms+ on a weak link). Two requests in
 * parallel: the study's details, and the Part 10 bytes of the image the viewer shows first
 * (`/api/imaging/studies/{id}/first-image`, which names its SOP Instance UID); the viewer hands
 * those bytes to its image loader instead of asking again.
 *
 * Rules: nothing Cornerstone here (this file is in the app's first download, so it stays tiny);
 * the same guarded, audited API as the page itself (same-origin cookie); each early answer is used
 * once; early bytes are used only if they are the first image the details list; a failed early
 * request is simply made again the ordinary way.
 */
import type { StudyView } from '../../../src/imaging/contract.ts';
import { ApiError, apiGet } from '../api.ts';
import { seriesOf, sopOfImageId } from './shared.ts';

const started = new Set<string>();
const details = new Map<string, Promise<StudyView>>();
const images = new Map<string, Promise<ArrayBuffer>>();

const detailsPath = (id: string) => `/api/imaging/studies/${id}`;

/**
 * Starts fetching a study's details and its first image, then the viewer engine (its code is only
 * fetched once the details say this person may see the study). Once per study and page load:
 * later visits fetch the ordinary way.
 */
export function startStudy(id: string): void {
  if (started.has(id)) return;
  started.add(id);
  // The image first: the larger answer takes the connection the page itself came on (no new handshake).
  const bytes = fetch(`${detailsPath(id)}/first-image`, { credentials: 'same-origin', headers: { Accept: 'application/dicom' } }).then(async (r) => {
    if (!r.ok) throw new Error(`${r.status}`);
    return { sop: r.headers.get('x-sop-instance-uid'), buf: await r.arrayBuffer() };
  });
  bytes.catch(() => undefined);
  const p = apiGet<StudyView>(detailsPath(id));
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
    void import('./viewer.ts').then((m) => m.prepare()).catch(() => undefined);
  }).catch(() => details.delete(id));
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

/** The early bytes of an image (by its Cornerstone image id), once; undefined when none were fetched. */
export function takeImage(imageId: string): Promise<ArrayBuffer> | undefined {
  const p = images.get(imageId);
  images.delete(imageId);
  return p;
}
