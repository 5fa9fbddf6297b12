/**
 * Orthanc as the image store: ORTHANC_URL (an external one), or the Debian `Orthanc` binary
 * started and supervised on loopback with a generated configuration (HTTP only, no DICOM port,
 * remote access off, a generated password, only the DICOMweb plugin) — supervised by
 * src/platform/supervisor.ts, like janus.
 *
 * Rules: Orthanc is never reached by a browser; our guarded routes call it. Files go in through
 * its REST API (`POST /instances`), studies come out through its DICOMweb plugin (QIDO/metadata)
 * and `/instances/{id}/file`. A staged file is streamed to Orthanc from disk (with its length),
 * never read whole. A failed batch deletes what it added, so a study is stored whole or not at all.
 */
import { createReadStream, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { Supervisor } from '../platform/supervisor.ts';
import { byReadingOrder, type CheckedFile, type DicomBackend } from './backend.ts';
import { TAG, type DicomJson } from './dicom.ts';

export class OrthancStore implements DicomBackend {
  readonly kind = 'orthanc' as const;
  private readonly auth?: string;

  constructor(
    readonly url: string,
    credentials?: { username: string; password: string },
  ) {
    this.auth = credentials ? `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64')}` : undefined;
  }

  private async req(path: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.auth) headers.set('authorization', this.auth);
    return fetch(`${this.url}${path}`, { ...init, headers });
  }

  async ready(): Promise<void> {
    const r = await this.req('/system', { signal: AbortSignal.timeout(2000) });
    if (!r.ok) throw new Error(`Orthanc answered ${r.status}`);
  }

  private async json<T>(path: string): Promise<T | undefined> {
    const r = await this.req(path, { headers: { accept: 'application/dicom+json, application/json' } });
    if (r.status === 404) return undefined;
    if (!r.ok) throw new Error(`Orthanc ${path.split('?')[0]}: ${r.status}`);
    const text = await r.text();
    return (text ? JSON.parse(text) : []) as T;
  }

  private async lookup(uid: string, type: 'Study' | 'Instance'): Promise<string | undefined> {
    const r = await this.req('/tools/lookup', { method: 'POST', body: uid });
    if (!r.ok) return undefined;
    const found = (await r.json()) as { ID: string; Type: string }[];
    return found.find((f) => f.Type === type)?.ID;
  }

  async storeAll(files: CheckedFile[]): Promise<{ stored: number; alreadyStored: number }> {
    const added: string[] = [];
    let alreadyStored = 0;
    try {
      for (const f of files) {
        let body: { ID: string; Status: string };
        if (f.path !== undefined) body = await this.postFile(f.path);
        else {
          const r = await this.req('/instances', { method: 'POST', body: new Uint8Array(f.bytes), headers: { 'content-type': 'application/dicom' } });
          if (!r.ok) throw new Error(`Orthanc refused an instance: ${r.status}`);
          body = (await r.json()) as { ID: string; Status: string };
        }
        if (body.Status === 'AlreadyStored') alreadyStored++;
        else added.push(body.ID);
      }
    } catch (err) {
      for (const id of added) await this.req(`/instances/${id}`, { method: 'DELETE' }).catch(() => undefined);
      throw err;
    }
    return { stored: added.length, alreadyStored };
  }

  /** POST /instances with the file streamed from disk (fetch would need a chunked body; Orthanc is given the length). */
  private async postFile(path: string): Promise<{ ID: string; Status: string }> {
    const { size } = await stat(path);
    const url = new URL(`${this.url}/instances`);
    const headers: Record<string, string | number> = { 'content-type': 'application/dicom', 'content-length': size };
    if (this.auth) headers.authorization = this.auth;
    return new Promise((resolve, reject) => {
      const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(url, { method: 'POST', headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          if ((res.statusCode ?? 500) >= 300) return reject(new Error(`Orthanc refused an instance: ${res.statusCode}`));
          try {
            resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as { ID: string; Status: string });
          } catch (err) {
            reject(err as Error);
          }
        });
      });
      req.on('error', reject);
      const file = createReadStream(path, { highWaterMark: 256 * 1024 });
      file.on('error', (err) => req.destroy(err));
      file.pipe(req);
    });
  }

  async hasStudy(studyUid: string): Promise<boolean> {
    return !!(await this.lookup(studyUid, 'Study'));
  }

  async studies(studyUids: string[]): Promise<DicomJson[]> {
    const out: DicomJson[] = [];
    for (const uid of studyUids) {
      const found = await this.json<DicomJson[]>(`/dicom-web/studies?StudyInstanceUID=${encodeURIComponent(uid)}&includefield=all`);
      for (const s of found ?? []) out.push(strip(s));
    }
    return out;
  }

  async series(studyUid: string): Promise<DicomJson[]> {
    return ((await this.json<DicomJson[]>(`/dicom-web/studies/${studyUid}/series`)) ?? []).map(strip);
  }

  async instances(studyUid: string, seriesUid?: string): Promise<DicomJson[]> {
    const path = seriesUid ? `/dicom-web/studies/${studyUid}/series/${seriesUid}/instances` : `/dicom-web/studies/${studyUid}/instances`;
    return ((await this.json<DicomJson[]>(path)) ?? []).map(strip);
  }

  async metadata(studyUid: string, seriesUid?: string, sopUid?: string): Promise<DicomJson[]> {
    const base = `/dicom-web/studies/${studyUid}${seriesUid ? `/series/${seriesUid}` : ''}${seriesUid && sopUid ? `/instances/${sopUid}` : ''}/metadata`;
    const list = ((await this.json<DicomJson[]>(base)) ?? []).map(strip);
    return list.filter((j) => !sopUid || j[TAG.SOPInstanceUID]?.Value?.[0] === sopUid).sort(byReadingOrder);
  }

  async file(studyUid: string, sopUid: string): Promise<Buffer | undefined> {
    const id = await this.lookup(sopUid, 'Instance');
    if (!id) return undefined;
    // Only an instance of the study the caller opened: a SOP of another study (maybe another facility's patient) is unknown here.
    const parent = await this.json<{ MainDicomTags?: { StudyInstanceUID?: string } }>(`/instances/${id}/study`);
    if (parent?.MainDicomTags?.StudyInstanceUID !== studyUid) return undefined;
    const r = await this.req(`/instances/${id}/file`);
    return r.ok ? Buffer.from(await r.arrayBuffer()) : undefined;
  }

  async deleteStudy(studyUid: string): Promise<void> {
    const id = await this.lookup(studyUid, 'Study');
    if (id) await this.req(`/studies/${id}`, { method: 'DELETE' });
  }

  async close(): Promise<void> {}
}

/** Orthanc's own retrieve URLs and bulk-data URIs point at Orthanc, which no client can reach. */
function strip(j: DicomJson): DicomJson {
  const out: DicomJson = {};
  for (const [tag, el] of Object.entries(j)) {
    if (tag === TAG.RetrieveURL || tag === TAG.PixelData || el.BulkDataURI || el.InlineBinary) continue;
    out[tag] = el;
  }
  return out;
}

/** Starts a local Orthanc on loopback with a generated configuration (DICOMweb, a generated account); restarts it if it dies. */
export class OrthancSupervisor {
  private readonly child: Supervisor;
  url?: string;
  readonly credentials = { username: 'cauyte', password: randomBytes(18).toString('base64url') };

  constructor(
    private readonly dir: string,
    binary = '/usr/sbin/Orthanc',
    private readonly pluginDir = '/usr/share/orthanc/plugins',
  ) {
    this.child = new Supervisor({
      name: 'orthanc',
      dir,
      binary,
      configure: (port) => {
        this.writeConfig(port);
        return [`--logdir=${dir}`, join(dir, 'orthanc.json')];
      },
      readyUrl: (port) => `http://127.0.0.1:${port}/system`,
      readyHeaders: { authorization: `Basic ${Buffer.from(`${this.credentials.username}:${this.credentials.password}`).toString('base64')}` },
      startMs: 20_000,
      stopMs: 5000,
    });
  }

  static available(binary = '/usr/sbin/Orthanc', pluginDir = '/usr/share/orthanc/plugins'): boolean {
    return existsSync(binary) && existsSync(join(pluginDir, 'libOrthancDicomWeb.so'));
  }

  async start(): Promise<string> {
    mkdirSync(join(this.dir, 'db'), { recursive: true });
    this.url = `http://127.0.0.1:${await this.child.start()}`;
    return this.url;
  }

  private writeConfig(port: number): void {
    const config = {
      Name: 'CAUYTE',
      StorageDirectory: join(this.dir, 'db'),
      IndexDirectory: join(this.dir, 'db'),
      Plugins: [join(this.pluginDir, 'libOrthancDicomWeb.so')],
      HttpPort: port,
      HttpServerEnabled: true,
      RemoteAccessAllowed: false,
      AuthenticationEnabled: true,
      RegisteredUsers: { [this.credentials.username]: this.credentials.password },
      DicomServerEnabled: false,
      HttpsVerifyPeers: false,
      StorageCompression: false,
      OverwriteInstances: false,
      SaveJobs: false,
      DicomWeb: { Enable: true, Root: '/dicom-web/', EnableWado: false, StudiesMetadata: 'Full', SeriesMetadata: 'Full' },
      DefaultEncoding: 'Utf8',
      StableAge: 60,
      ConcurrentJobs: 1,
      HttpThreadsCount: 8,
    };
    writeFileSync(join(this.dir, 'orthanc.json'), JSON.stringify(config, null, 1), { mode: 0o600 });
  }

  /** A crash (drills): SIGKILL, and no restart. */
  kill(): void {
    this.child.kill();
  }

  async stop(): Promise<void> {
    await this.child.stop();
  }
}
