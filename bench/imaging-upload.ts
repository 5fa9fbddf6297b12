/**
 * The two ways of sending a study that the imaging benchmarks compare: the platform's resumable
 * upload (tus 1.0 creation-with-upload + PATCH chunks, SHA-256 in the metadata, then one commit),
 * and a raw copy (all the files' bytes in one HTTP POST to a sink that writes them to disk — the
 * best a plain copy can do on the link). Used on loopback (imaging.ts) and inside the weak link's
 * namespace (imaging-upload-client.ts). Plain fetch, no test code; nothing asserted.
 */
import { createHash } from 'node:crypto';

export interface TusOptions {
  /** Bytes per request (the first goes with the creation request). */
  chunk: number;
  /** Files in flight at once. */
  parallel: number;
}

/** Sends every file through tus (creation-with-upload, then PATCHes), then commits; returns the ImagingStudy id. */
export async function tusUpload(base: string, token: string, patientId: string, files: Buffer[], o: TusOptions): Promise<string> {
  const auth = { authorization: `Bearer ${token}`, 'tus-resumable': '1.0.0' };
  const ids: string[] = new Array(files.length);
  let next = 0;
  const one = async (i: number) => {
    const f = files[i];
    const sha = createHash('sha256').update(f).digest('hex');
    const first = f.subarray(0, Math.min(f.length, o.chunk));
    const created = await fetch(`${base}/api/imaging/uploads/files`, {
      method: 'POST',
      headers: {
        ...auth,
        'upload-length': String(f.length),
        'upload-metadata': `filename ${Buffer.from(`anh-${i + 1}.dcm`).toString('base64')},sha256 ${Buffer.from(sha).toString('base64')}`,
        'content-type': 'application/offset+octet-stream',
      },
      body: new Uint8Array(first),
    });
    if (created.status !== 201) throw new Error(`tus create: ${created.status} ${await created.text()}`);
    const id = String(created.headers.get('location')).split('/').pop()!;
    let off = Number(created.headers.get('upload-offset') ?? 0);
    while (off < f.length) {
      const chunk = f.subarray(off, Math.min(f.length, off + o.chunk));
      const r = await fetch(`${base}/api/imaging/uploads/files/${id}`, {
        method: 'PATCH',
        headers: { ...auth, 'upload-offset': String(off), 'content-type': 'application/offset+octet-stream' },
        body: new Uint8Array(chunk),
      });
      if (r.status !== 204) throw new Error(`tus patch: ${r.status} ${await r.text()}`);
      off = Number(r.headers.get('upload-offset'));
    }
    ids[i] = id;
  };
  await Promise.all(
    Array.from({ length: Math.min(o.parallel, files.length) }, async () => {
      while (next < files.length) await one(next++);
    }),
  );
  const commit = await fetch(`${base}/api/imaging/uploads/commit`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ patientId, uploadIds: ids }),
  });
  if (commit.status !== 201) throw new Error(`commit failed: ${commit.status} ${await commit.text()}`);
  return ((await commit.json()) as { id: string }).id;
}

/** The raw copy: every file's bytes, one after another, in one POST. */
export async function rawCopy(sinkUrl: string, files: Buffer[]): Promise<void> {
  const r = await fetch(sinkUrl, { method: 'POST', body: new Uint8Array(Buffer.concat(files)) });
  await r.text();
  if (!r.ok) throw new Error(`sink: ${r.status}`);
}
