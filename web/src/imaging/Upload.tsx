/**
 * Sending a study from a station over a weak link: each DICOM file goes up with tus-js-client
 * (1 MiB chunks, the first sent with the creation request, a few files at a time — shared.ts)
 * (resumable: when the link drops it retries and resumes from the server's offset; if the browser
 * was closed, the same file chosen again resumes from where it stopped — tus-js-client keeps the
 * upload URL in localStorage under the file's fingerprint), with its SHA-256 sent as metadata and
 * checked by the server; then one commit makes the study (all files or none). Phone photos of a
 * film are sent as JPEG and turned into DICOM on the server.
 */
import type { Bundle, Organization } from '@medplum/fhirtypes';
import { useEffect, useState } from 'preact/hooks';
import { apiSend, entries, fhirGet } from '../api.ts';
import { csrfToken, me } from '../session.ts';
import { num, ti } from '../i18n-imaging.ts';
import { UPLOAD_CHUNK_BYTES, UPLOAD_FILES_IN_FLIGHT, URGENCY_VALUES } from './shared.ts';

/** tus-js-client (≈ 25 kB compressed) comes with the upload page, not with the app; the page starts loading it when it opens. */
const loadTus = () => import('tus-js-client').then((m) => m.Upload);

async function sha256(file: Blob): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', await file.arrayBuffer());
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

function base64(buf: ArrayBuffer): string {
  let s = '';
  const bytes = new Uint8Array(buf);
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

/** Sends one file with tus; resolves with the upload id once the server has every byte. */
function sendFile(file: File, onProgress: (sent: number) => void, onState: (offline: boolean) => void): Promise<string> {
  return Promise.all([sha256(file), loadTus()]).then(
    ([hash, TusUpload]) =>
      new Promise<string>((resolve, reject) => {
        const up = new TusUpload(file, {
          endpoint: '/api/imaging/uploads/files',
          chunkSize: UPLOAD_CHUNK_BYTES,
          // creation-with-upload: the first chunk rides on the creation request (one round trip less per file).
          uploadDataDuringCreation: true,
          // Keep retrying across a long outage: quickly at first, then every 5 s for an hour.
          retryDelays: [500, 1000, 2000, 3000, ...Array<number>(720).fill(5000)],
          metadata: { filename: file.name, filetype: file.type || 'application/dicom', sha256: hash },
          headers: { 'x-csrf-token': csrfToken.value ?? '' },
          storeFingerprintForResuming: true,
          removeFingerprintOnSuccess: true,
          onProgress: (sent) => {
            onState(false);
            onProgress(sent);
          },
          onShouldRetry: () => {
            onState(!navigator.onLine);
            return true;
          },
          onError: reject,
          onSuccess: () => resolve(up.url!.split('/').pop()!),
        });
        void up.findPreviousUploads().then((previous) => {
          if (previous.length) up.resumeFromPreviousUpload(previous[0]);
          up.start();
        });
      }),
  );
}

export function ImagingUpload({ patientId, onDone }: { patientId: string; onDone: () => void }) {
  const l = ti();
  const [orgs, setOrgs] = useState<Organization[]>([]);
  const [progress, setProgress] = useState<{ sent: number; total: number } | undefined>();
  const [offline, setOffline] = useState(false);
  const [message, setMessage] = useState<{ ok: boolean; text: string } | undefined>();
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    void loadTus().catch(() => undefined); // fetched while the user picks files; sendFile reports a failure
    fhirGet<Bundle>('Organization?_count=100&_sort=name').then(
      (b) => setOrgs(entries<Organization>(b).filter((o) => o.id !== me.value?.organizationId)),
      () => setOrgs([]),
    );
  }, []);

  async function submit(e: Event) {
    e.preventDefault();
    const f = new FormData(e.target as HTMLFormElement);
    const files = (f.getAll('files') as File[]).filter((x) => x.size > 0);
    const photos = (f.getAll('photos') as File[]).filter((x) => x.size > 0);
    const hub = String(f.get('hub') ?? '');
    const request = hub ? { hubOrganizationId: hub, urgency: String(f.get('urgency')), question: String(f.get('question') ?? '') || undefined } : undefined;
    setMessage(undefined);
    setBusy(true);
    try {
      if (photos.length) {
        await apiSend('POST', '/api/imaging/photos', { patientId, photos: await Promise.all(photos.map(async (p) => base64(await p.arrayBuffer()))), request });
      }
      if (files.length) {
        const total = files.reduce((n, x) => n + x.size, 0);
        const sentPer = new Map<number, number>();
        const update = () => setProgress({ sent: [...sentPer.values()].reduce((a, b) => a + b, 0), total });
        // A few files in flight; the commit lists them in the order chosen.
        const ids: string[] = new Array<string>(files.length);
        let next = 0;
        const worker = async () => {
          while (next < files.length) {
            const i = next++;
            ids[i] = await sendFile(
              files[i],
              (sent) => {
                sentPer.set(i, sent);
                update();
              },
              setOffline,
            );
            sentPer.set(i, files[i].size);
            update();
          }
        };
        await Promise.all(Array.from({ length: Math.min(UPLOAD_FILES_IN_FLIGHT, files.length) }, worker));
        await apiSend('POST', '/api/imaging/uploads/commit', { patientId, uploadIds: ids, request });
      }
      setMessage({ ok: true, text: l.done });
      (e.target as HTMLFormElement).reset();
      onDone();
    } catch (err) {
      setMessage({ ok: false, text: (err as Error).message });
    } finally {
      setBusy(false);
      setOffline(false);
    }
  }

  return (
    <form class="imaging-upload" onSubmit={submit} data-testid="imaging-upload">
      <h3>{l.upload}</h3>
      <p class="meta">{l.uploadHint}</p>
      <label>
        {l.files}
        <input type="file" name="files" multiple accept=".dcm,application/dicom,*/*" />
      </label>
      <label>
        {l.photos}
        <input type="file" name="photos" multiple accept="image/jpeg" capture="environment" />
      </label>
      <label>
        {l.hub}
        <select name="hub">
          <option value="">—</option>
          {orgs.map((o) => (
            <option key={o.id} value={o.id}>
              {o.name}
            </option>
          ))}
        </select>
      </label>
      <label>
        {l.urgency}
        <select name="urgency">
          {URGENCY_VALUES.map((u) => (
            <option key={u} value={u}>
              {l.urgencies[u]}
            </option>
          ))}
        </select>
      </label>
      <label>
        {l.question}
        <textarea name="question" rows={2} maxLength={2000} />
      </label>
      {progress && busy && (
        <p class="meta" role="status" data-testid="upload-progress">
          {offline ? l.waitingNetwork : l.sending}: {num((100 * progress.sent) / Math.max(1, progress.total), 0)}%
          <progress value={progress.sent} max={progress.total} />
        </p>
      )}
      {message && (
        <p class={message.ok ? 'notice' : 'error'} role={message.ok ? 'status' : 'alert'} data-testid="upload-result">
          {message.text}
        </p>
      )}
      <button type="submit" disabled={busy}>
        {busy ? l.sending : l.send}
      </button>
    </form>
  );
}
