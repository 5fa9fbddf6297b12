/**
 * The embedded image store: DICOM files under $CAUYTE_DATA_DIR/imaging, used when no Orthanc runs.
 *
 * Layout: `blobs/<aa>/<sha256>.dcm` (content-addressed: the same file twice is stored once) and
 * `studies/<StudyInstanceUID>.json` (the study's instances: series, SOP UID, blob hash, metadata).
 * A study's index file is replaced atomically (write + rename) after every blob it names is on
 * disk, so a crash leaves at most unreferenced blobs, never an index naming a missing file.
 * Writes to one study are serialised. A staged upload file is copied (streamed by the kernel,
 * not read into memory); if any file of a batch fails, the blobs this batch added are removed and
 * the index is not touched (all or nothing).
 */
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { byReadingOrder, instanceAttributes, seriesAttributes, studyAttributes, type CheckedFile, type DicomBackend } from './backend.ts';
import { TAG, type DicomJson } from './dicom.ts';

interface IndexEntry {
  seriesUid: string;
  sha256: string;
  json: DicomJson;
}
type StudyIndex = Record<string, IndexEntry>; // SOP Instance UID → entry

const UID = /^[0-9.]{1,64}$/;

export class EmbeddedStore implements DicomBackend {
  readonly kind = 'embedded' as const;
  private readonly locks = new Map<string, Promise<unknown>>();

  constructor(private readonly dir: string) {}

  private blobPath(sha: string): string {
    return join(this.dir, 'blobs', sha.slice(0, 2), `${sha}.dcm`);
  }

  private indexPath(studyUid: string): string {
    if (!UID.test(studyUid)) throw new Error('invalid study UID');
    return join(this.dir, 'studies', `${studyUid}.json`);
  }

  private async index(studyUid: string): Promise<StudyIndex | undefined> {
    try {
      return JSON.parse(await readFile(this.indexPath(studyUid), 'utf8')) as StudyIndex;
    } catch {
      return undefined;
    }
  }

  private async atomicWrite(path: string, data: string | Buffer | { from: string }): Promise<void> {
    const tmp = `${path}.${randomUUID()}.tmp`;
    try {
      if (typeof data === 'object' && 'from' in data) await copyFile(data.from, tmp);
      else await writeFile(tmp, data);
      await rename(tmp, path);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
  }

  private serial<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.locks.get(key) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    this.locks.set(
      key,
      next.catch(() => undefined),
    );
    return next;
  }

  async storeAll(files: CheckedFile[]): Promise<{ stored: number; alreadyStored: number }> {
    const byStudy = new Map<string, CheckedFile[]>();
    for (const f of files) byStudy.set(f.parsed.studyUid, [...(byStudy.get(f.parsed.studyUid) ?? []), f]);
    let stored = 0;
    let alreadyStored = 0;
    await mkdir(join(this.dir, 'studies'), { recursive: true });
    for (const [studyUid, list] of byStudy) {
      await this.serial(studyUid, async () => {
        const added: string[] = [];
        try {
          for (const f of list) {
            const path = this.blobPath(f.parsed.sha256);
            if (existsSync(path)) continue;
            await mkdir(join(this.dir, 'blobs', f.parsed.sha256.slice(0, 2)), { recursive: true });
            await this.atomicWrite(path, f.path !== undefined ? { from: f.path } : f.bytes);
            added.push(path);
          }
          const idx = (await this.index(studyUid)) ?? {};
          for (const f of list) {
            if (idx[f.parsed.sopUid]) alreadyStored++;
            else stored++;
            idx[f.parsed.sopUid] = { seriesUid: f.parsed.seriesUid, sha256: f.parsed.sha256, json: f.parsed.json };
          }
          await this.atomicWrite(this.indexPath(studyUid), JSON.stringify(idx));
        } catch (err) {
          for (const path of added) await rm(path, { force: true });
          throw err;
        }
      });
    }
    return { stored, alreadyStored };
  }

  async hasStudy(studyUid: string): Promise<boolean> {
    return !!(await this.index(studyUid));
  }

  private async all(studyUid: string, seriesUid?: string): Promise<DicomJson[]> {
    const idx = (await this.index(studyUid)) ?? {};
    return Object.values(idx)
      .filter((e) => !seriesUid || e.seriesUid === seriesUid)
      .map((e) => e.json)
      .sort(byReadingOrder);
  }

  async studies(studyUids: string[]): Promise<DicomJson[]> {
    const out: DicomJson[] = [];
    for (const uid of studyUids) {
      const list = await this.all(uid);
      if (list.length) out.push(studyAttributes(list));
    }
    return out;
  }

  async series(studyUid: string): Promise<DicomJson[]> {
    return seriesAttributes(await this.all(studyUid));
  }

  async instances(studyUid: string, seriesUid?: string): Promise<DicomJson[]> {
    return instanceAttributes(await this.all(studyUid, seriesUid));
  }

  async metadata(studyUid: string, seriesUid?: string, sopUid?: string): Promise<DicomJson[]> {
    return (await this.all(studyUid, seriesUid)).filter((j) => !sopUid || j[TAG.SOPInstanceUID]?.Value?.[0] === sopUid);
  }

  async file(studyUid: string, sopUid: string): Promise<Buffer | undefined> {
    const e = (await this.index(studyUid))?.[sopUid];
    return e ? readFile(this.blobPath(e.sha256)) : undefined;
  }

  /** Removes the study's index; blobs no other study names are removed too. */
  async deleteStudy(studyUid: string): Promise<void> {
    await this.serial(studyUid, async () => {
      const idx = await this.index(studyUid);
      await rm(this.indexPath(studyUid), { force: true });
      for (const e of Object.values(idx ?? {})) await rm(this.blobPath(e.sha256), { force: true });
    });
  }

  async close(): Promise<void> {
    await Promise.all([...this.locks.values()]);
  }
}
