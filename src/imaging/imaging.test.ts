/**
 * Imaging through the API on both image stores (embedded files and a supervised Orthanc) and both
 * databases: STOW-RS of a synthetic CT series, QIDO/WADO (metadata, the file, frames), the
 * ImagingStudy and Endpoint in the record, the same file twice stored once, corrupt and non-DICOM
 * uploads refused with nothing stored, resumable (tus) upload + commit with checksums, phone
 * photos as Secondary Capture, the reading workflow (worklist, signed report, immutable, the
 * requester notified), and the denials: another facility's clinician, a citizen for someone
 * else's study, a narrower app token.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import type { Bundle, ImagingStudy } from '@medplum/fhirtypes';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDemoAccounts } from '../seed/accounts.ts';
import { seedDemo, type DemoSummary } from '../seed/demo.ts';
import { DB_KINDS } from '../testing/databases.ts';
import { call, sessionFor, startTestPlatform, type TestPlatform } from '../testing/platform.ts';
import { OrthancSupervisor } from './orthanc.ts';
import { syntheticSeries } from './create.ts';
import { parseInstance } from './dicom.ts';
import { splitMultipart } from './multipart.ts';
import { TINY_JPEG } from './test-fixtures.ts';

const BACKENDS = OrthancSupervisor.available() ? (['embedded', 'orthanc'] as const) : (['embedded'] as const);
const CASES = DB_KINDS.flatMap((db) => BACKENDS.map((backend) => [db, backend] as const));

export function multipartBody(files: Buffer[]): { body: Buffer; type: string } {
  const boundary = `b${randomBytes(8).toString('hex')}`;
  const chunks: Buffer[] = [];
  for (const f of files) chunks.push(Buffer.from(`--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`), f, Buffer.from('\r\n'));
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(chunks), type: `multipart/related; type="application/dicom"; boundary=${boundary}` };
}

describe.each(CASES)('imaging on %s with the %s store', (kind, backend) => {
  let p: TestPlatform;
  let demo: DemoSummary;
  let dataDir: string;
  let station: string; // commune clinician at Bát Xát
  let hub: string; // specialist (radiologist) at Bạch Mai
  let otherStation: string; // commune clinician at Si Ma Cai
  let citizen: string; // a citizen whose own record is patient 1
  let narrow: string; // an app token for Patient only
  let patientId: string;
  const series = syntheticSeries({ count: 4, size: 32, spacing: 0.7 });

  const stow = (token: string, files: Buffer[], query = '') => {
    const { body, type } = multipartBody(files);
    return p.app.inject({
      method: 'POST',
      url: `/api/imaging/dicomweb/patients/${patientId}/studies${query}`,
      headers: { authorization: `Bearer ${token}`, 'content-type': type },
      payload: body,
    });
  };
  const get = (token: string, url: string, accept = 'application/dicom+json') =>
    p.app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}`, accept } });

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'cauyte-imaging-'));
    p = await startTestPlatform(kind, { CAUYTE_DATA_DIR: dataDir, CAUYTE_ORTHANC: backend === 'orthanc' ? 'auto' : 'off' }, undefined, {
      domains: ['consult', 'imaging'],
    });
    demo = await seedDemo(p.store, 8);
    await createDemoAccounts(p.db, p.accounts, demo);
    const o = demo.ids.organizations;
    patientId = demo.ids.patients[0]; // registered at Bát Xát
    station = await p.tokenFor('commune_clinician', { org: o.batxat, practitioner: demo.ids.practitioners[6] });
    hub = await p.tokenFor('specialist', { org: o.bachmai, practitioner: demo.ids.practitioners[0] });
    otherStation = await p.tokenFor('commune_clinician', { org: o.simacai });
    citizen = await p.tokenFor('citizen', { patient: demo.ids.patients[1], scope: 'patient/*.read' });
    narrow = await p.tokenFor('commune_clinician', { org: o.batxat, scope: 'user/Patient.read' });
  }, 120_000);
  afterAll(async () => {
    await p?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('/readyz covers the image store when it is Orthanc (the embedded store is the data folder)', async () => {
    const r = await call(p, 'GET', '/readyz', undefined, { authorization: '' });
    expect(r.status, r.text).toBe(200);
    if (backend === 'orthanc') expect(r.body.checks.orthanc.status).toBe('up');
    else expect(r.body.checks.orthanc).toBeUndefined();
  });

  it('stores a study with STOW-RS, links it as ImagingStudy + Endpoint, serves QIDO and WADO', async () => {
    const res = await stow(station, series.files, `?hub=${demo.ids.organizations.bachmai}&urgency=urgent`);
    expect(res.statusCode, res.body).toBe(200);
    const stowed = JSON.parse(res.body);
    expect(stowed['00081199'].Value).toHaveLength(4);
    const studyId = res.headers['x-imaging-study'] as string;
    const studyRes = await call<ImagingStudy>(p, 'GET', `/fhir/R4/ImagingStudy/${studyId}`);
    expect(studyRes.status, studyRes.text).toBe(200);
    const study = studyRes.body;
    expect(study.subject?.reference).toBe(`Patient/${patientId}`);
    expect(study.numberOfInstances).toBe(4);
    expect(study.identifier?.[0].value).toBe(`urn:oid:${series.studyUid}`);
    const endpoint = (await call(p, 'GET', `/fhir/R4/${study.endpoint![0].reference}`)).body;
    expect(endpoint.connectionType.code).toBe('dicom-wado-rs');

    const studies = JSON.parse((await get(station, '/api/imaging/dicomweb/studies')).body);
    expect(studies.map((s: any) => s['0020000D'].Value[0])).toContain(series.studyUid);
    const seriesList = JSON.parse((await get(station, `/api/imaging/dicomweb/studies/${series.studyUid}/series`)).body);
    expect(seriesList[0]['0020000E'].Value[0]).toBe(series.seriesUid);
    const instances = JSON.parse((await get(station, `/api/imaging/dicomweb/studies/${series.studyUid}/series/${series.seriesUid}/instances`)).body);
    expect(instances).toHaveLength(4);
    const meta = JSON.parse((await get(station, `/api/imaging/dicomweb/studies/${series.studyUid}/metadata`)).body);
    expect(meta.map((m: any) => m['00200013'].Value[0])).toEqual([1, 2, 3, 4]);
    expect(meta[0]['00280030'].Value.map(Number)).toEqual([0.7, 0.7]);

    const sop = parseInstance(series.files[2]).sopUid;
    const file = await get(station, `/api/imaging/dicomweb/studies/${series.studyUid}/series/${series.seriesUid}/instances/${sop}`, 'application/dicom');
    expect(file.statusCode).toBe(200);
    expect(createHash('sha256').update(file.rawPayload).digest('hex')).toBe(createHash('sha256').update(series.files[2]).digest('hex'));
    const multi = await get(
      station,
      `/api/imaging/dicomweb/studies/${series.studyUid}/series/${series.seriesUid}/instances/${sop}`,
      'multipart/related; type="application/dicom"',
    );
    expect(splitMultipart(multi.rawPayload, String(multi.headers['content-type']))[0].equals(series.files[2])).toBe(true);
    const frames = await get(
      station,
      `/api/imaging/dicomweb/studies/${series.studyUid}/series/${series.seriesUid}/instances/${sop}/frames/1`,
      'multipart/related; type="application/octet-stream"',
    );
    expect(splitMultipart(frames.rawPayload, String(frames.headers['content-type']))[0].length).toBe(32 * 32 * 2);
    // A frame asked for twice (or a hundred times) is refused: an answer is never larger than the image.
    const repeated = await get(
      station,
      `/api/imaging/dicomweb/studies/${series.studyUid}/series/${series.seriesUid}/instances/${sop}/frames/${Array(100).fill('1').join(',')}`,
      'multipart/related; type="application/octet-stream"',
    );
    expect(repeated.statusCode).toBe(400);
    expect(repeated.body).toMatch(/lặp lại/);
  });

  it('stores the same file twice once; refuses corrupt and non-DICOM uploads and stores nothing of them', async () => {
    const again = await stow(station, [series.files[0], series.files[0]]);
    expect(again.statusCode).toBe(200);
    const meta = JSON.parse((await get(station, `/api/imaging/dicomweb/studies/${series.studyUid}/metadata`)).body);
    expect(meta).toHaveLength(4);

    const other = syntheticSeries({ count: 3, size: 16 });
    const corrupt = Buffer.from(other.files[1].subarray(0, other.files[1].length - 200)); // truncated pixel data
    const bad = await stow(station, [other.files[0], corrupt, other.files[2]]);
    expect(bad.statusCode).toBe(400);
    expect(bad.body).toMatch(/Phần 2.*(cắt cụt|hỏng)/);
    expect(bad.body).toContain('Không tệp nào được lưu');
    const notDicom = await stow(station, [Buffer.from('%PDF-1.4 this is not an image')]);
    expect(notDicom.statusCode).toBe(400);
    expect(notDicom.body).toContain('không phải DICOM');
    const found = JSON.parse((await get(hub, `/api/imaging/dicomweb/studies?StudyInstanceUID=${other.studyUid}`)).body);
    expect(found).toEqual([]);
    expect(await p.app.imaging.backend.hasStudy(other.studyUid)).toBe(false);
  });

  it('denies the study to another facility, a citizen for someone else, and a narrower token (audited)', async () => {
    const sop = parseInstance(series.files[0]).sopUid;
    const url = `/api/imaging/dicomweb/studies/${series.studyUid}/series/${series.seriesUid}/instances/${sop}`;
    const denied = async () => Number((await p.db.query<{ n: string }>("SELECT count(*)::text AS n FROM audit_log WHERE outcome = 'denied'")).rows[0].n);
    const before = await denied();
    for (const token of [otherStation, citizen, narrow]) {
      const r = await get(token, url, 'application/dicom');
      expect(r.statusCode, r.body).toBe(403);
      expect((await get(token, `/api/imaging/dicomweb/studies/${series.studyUid}/metadata`)).statusCode).toBe(403);
      const list = await get(token, '/api/imaging/dicomweb/studies');
      if (list.statusCode === 200) expect(JSON.parse(list.body)).toEqual([]);
    }
    const [study] = (await call(p, 'GET', `/fhir/R4/ImagingStudy?identifier=urn:dicom:uid|urn:oid:${series.studyUid}`)).body.entry.map((e: any) => e.resource);
    const json = { 'content-type': 'application/json' };
    for (const token of [otherStation, citizen, narrow]) {
      const auth = { authorization: `Bearer ${token}` };
      expect((await call(p, 'GET', `/api/imaging/studies/${study.id}`, undefined, auth)).status).toBe(403);
      expect((await call(p, 'GET', `/api/imaging/studies/${study.id}/first-image`, undefined, auth)).status).toBe(403);
      expect((await call(p, 'GET', `/api/imaging/studies/${study.id}/report/verify`, undefined, auth)).status).toBe(403);
      const note = { sopUid: sop, kind: 'note', points: [[1, 1]], text: 'x' };
      expect([401, 403]).toContain((await call(p, 'POST', `/api/imaging/studies/${study.id}/annotations`, note, { ...auth, ...json })).status);
      expect([401, 403]).toContain((await call(p, 'POST', `/api/imaging/studies/${study.id}/report/sign`, undefined, auth)).status);
    }
    // The hub reaches the patient through the reading request.
    expect((await get(hub, url, 'application/dicom')).statusCode).toBe(200);
    // The study page's early first image is the viewer's first image (lowest instance number), the same file as WADO-RS, audited.
    const first = await get(station, `/api/imaging/studies/${study.id}/first-image`, 'application/dicom');
    expect(first.statusCode, first.body).toBe(200);
    expect(first.headers['content-type']).toBe('application/dicom');
    expect(first.headers['x-sop-instance-uid']).toBe(sop);
    expect(first.rawPayload.equals((await get(station, url, 'application/dicom')).rawPayload)).toBe(true);
    const audited = await p.db.query("SELECT 1 FROM audit_log WHERE resource_id = $1 AND detail->>'dicomweb' = 'first-image'", [study.id]);
    expect(audited.rows.length).toBeGreaterThan(0);
    // A STOW for a patient one does not reach stores nothing.
    const other = syntheticSeries({ count: 1, size: 16 });
    expect((await stow(otherStation, other.files)).statusCode).toBe(403);
    expect(await p.app.imaging.backend.hasStudy(other.studyUid)).toBe(false);
    expect(await denied()).toBeGreaterThanOrEqual(before + 10);
  });

  it('an instance or frame of another facility’s study is not reachable through a study one may open (the SOP must belong to that study)', async () => {
    // Si Ma Cai stores a study for one of its own patients, then asks for Bát Xát's instance under it.
    const own = (await call<Bundle>(p, 'GET', '/fhir/R4/Patient?_count=50', undefined, { authorization: `Bearer ${otherStation}` })).body.entry!.map(
      (e) => e.resource!.id!,
    );
    const mine = own.find((id) => id !== patientId)!;
    expect(mine).toBeDefined();
    const theirs = syntheticSeries({ count: 1, size: 16 });
    const { body, type } = multipartBody(theirs.files);
    const stored = await p.app.inject({
      method: 'POST',
      url: `/api/imaging/dicomweb/patients/${mine}/studies`,
      headers: { authorization: `Bearer ${otherStation}`, 'content-type': type },
      payload: body,
    });
    expect(stored.statusCode, stored.body).toBe(200);
    // Bát Xát's own study (a patient Si Ma Cai does not reach), stored here so the test stands alone.
    const victim = syntheticSeries({ count: 1, size: 16 });
    expect((await stow(station, victim.files)).statusCode).toBe(200);
    expect((await get(otherStation, `/api/imaging/dicomweb/studies/${victim.studyUid}/metadata`)).statusCode).toBe(403);
    const victimSop = parseInstance(victim.files[0]).sopUid;
    const under = `/api/imaging/dicomweb/studies/${theirs.studyUid}/series/${theirs.seriesUid}/instances/${victimSop}`;
    expect((await get(otherStation, under, 'application/dicom')).statusCode).toBe(404);
    expect((await get(otherStation, `${under}/frames/1`, 'multipart/related; type="application/octet-stream"')).statusCode).toBe(404);
    expect((await get(otherStation, `${under}/metadata`)).statusCode).toBe(404);
    // Its own instance is served as usual.
    const ownSop = parseInstance(theirs.files[0]).sopUid;
    expect(
      (await get(otherStation, `/api/imaging/dicomweb/studies/${theirs.studyUid}/series/${theirs.seriesUid}/instances/${ownSop}`, 'application/dicom'))
        .statusCode,
    ).toBe(200);
  });

  it('resumable upload (tus): a finished upload commits as one study; checksum and owner are enforced', async () => {
    const s = syntheticSeries({ count: 3, size: 16 });
    const ids: string[] = [];
    const base = await p.listen();
    const tus = async (method: string, path: string, token: string, headers: Record<string, string> = {}, body?: Buffer) => {
      const r = await fetch(`${base}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}`, 'tus-resumable': '1.0.0', ...headers },
        ...(body ? { body: new Uint8Array(body) } : {}),
      });
      return { statusCode: r.status, headers: Object.fromEntries(r.headers), body: await r.text() };
    };
    for (const [i, f] of s.files.entries()) {
      const sha = createHash('sha256').update(f).digest('hex');
      const meta = `filename ${Buffer.from(`anh-${i}.dcm`).toString('base64')},sha256 ${Buffer.from(sha).toString('base64')}`;
      const created = await tus('POST', '/api/imaging/uploads/files', station, { 'upload-length': String(f.length), 'upload-metadata': meta });
      expect(created.statusCode, created.body).toBe(201);
      const id = String(created.headers.location).split('/').pop()!;
      ids.push(id);
      // Another account may not touch it.
      const foreign = await tus('HEAD', `/api/imaging/uploads/files/${id}`, hub);
      expect(foreign.statusCode).toBe(403);
      // Two chunks, as after a dropped link: the second resumes at the offset the server reports.
      const half = Math.floor(f.length / 2);
      const patch = (offset: number, chunk: Buffer) =>
        tus(
          'PATCH',
          `/api/imaging/uploads/files/${id}`,
          station,
          { 'upload-offset': String(offset), 'content-type': 'application/offset+octet-stream' },
          chunk,
        );
      expect((await patch(0, f.subarray(0, half))).statusCode).toBe(204);
      if (i === 0) {
        const early = await call(
          p,
          'POST',
          '/api/imaging/uploads/commit',
          { patientId, uploadIds: [id] },
          { authorization: `Bearer ${station}`, 'content-type': 'application/json' },
        );
        expect(early.status).toBe(400);
        expect(early.text).toContain('chưa tải xong');
      }
      const head = await tus('HEAD', `/api/imaging/uploads/files/${id}`, station);
      const offset = Number(head.headers['upload-offset']);
      expect(offset).toBe(half);
      expect((await patch(offset, f.subarray(offset))).statusCode).toBe(204);
    }
    const byHub = await call(
      p,
      'POST',
      '/api/imaging/uploads/commit',
      { patientId, uploadIds: ids },
      { authorization: `Bearer ${hub}`, 'content-type': 'application/json' },
    );
    expect(byHub.status).toBe(403);
    const done = await call(
      p,
      'POST',
      '/api/imaging/uploads/commit',
      { patientId, uploadIds: ids, request: { hubOrganizationId: demo.ids.organizations.bachmai, urgency: 'stat', question: 'Tràn dịch?' } },
      { authorization: `Bearer ${station}`, 'content-type': 'application/json' },
    );
    expect(done.status, done.text).toBe(201);
    expect(done.body.instances).toBe(3);
    expect(await p.app.imaging.backend.hasStudy(s.studyUid)).toBe(true);
  });

  it('a phone photo of a film becomes a Secondary Capture study with the patient identifiers', async () => {
    const r = await call(
      p,
      'POST',
      '/api/imaging/photos',
      { patientId, photos: [TINY_JPEG] },
      { authorization: `Bearer ${station}`, 'content-type': 'application/json' },
    );
    expect(r.status, r.text).toBe(201);
    const meta = JSON.parse((await get(station, `/api/imaging/dicomweb/studies/${r.body.studyUid}/metadata`)).body);
    expect(meta[0]['00080016'].Value[0]).toBe('1.2.840.10008.5.1.4.1.1.7');
    expect(meta[0]['00100020'].Value[0]).toBe(patientId);
    const notJpeg = await call(
      p,
      'POST',
      '/api/imaging/photos',
      { patientId, photos: [Buffer.from('hello').toString('base64')] },
      { authorization: `Bearer ${station}`, 'content-type': 'application/json' },
    );
    expect(notJpeg.status).toBe(400);
    expect(notJpeg.text).toContain('JPEG');
  });

  it('exports a de-identified teaching copy (PS3.15 basic profile); citizens and other facilities get none', async () => {
    const [study] = (await call(p, 'GET', `/fhir/R4/ImagingStudy?identifier=urn:dicom:uid|urn:oid:${series.studyUid}`)).body.entry.map((e: any) => e.resource);
    const r = await p.app.inject({ method: 'GET', url: `/api/imaging/studies/${study.id}/deidentified`, headers: { authorization: `Bearer ${station}` } });
    expect(r.statusCode, r.body).toBe(200);
    const parts = splitMultipart(r.rawPayload, String(r.headers['content-type'])).map(parseInstance);
    expect(parts).toHaveLength(4);
    expect(new Set(parts.map((x) => x.studyUid)).size).toBe(1);
    expect(parts[0].studyUid).not.toBe(series.studyUid);
    expect(parts[0].json['00100010'].Value?.[0]).toEqual({ Alphabetic: expect.stringMatching(/^ANON\^CA-/) });
    expect(JSON.stringify(parts[0].json)).not.toContain(patientId);
    for (const token of [otherStation, citizen]) {
      const denied = await p.app.inject({ method: 'GET', url: `/api/imaging/studies/${study.id}/deidentified`, headers: { authorization: `Bearer ${token}` } });
      expect(denied.statusCode).toBe(403);
    }
  });

  it('reading workflow: worklist at the hub, report signed and immutable, requester notified', async () => {
    // Reading and signing a report is the radiologist's own act at the screen (their signing key):
    // their app's token is refused, their session is served.
    const byApp = await call(p, 'GET', '/api/imaging/worklist', undefined, { authorization: `Bearer ${hub}` });
    expect(byApp.status).toBe(403);
    expect(byApp.body.title).toMatch(/not for app tokens/);
    const reader = await sessionFor(p, 'specialist', { org: demo.ids.organizations.bachmai, practitioner: demo.ids.practitioners[0] });
    const list = await call(p, 'GET', '/api/imaging/worklist', undefined, reader);
    expect(list.status).toBe(200);
    expect(list.body.length).toBeGreaterThanOrEqual(2);
    expect(list.body[0].urgency).toBe('stat'); // the most urgent first
    const item = list.body.find((i: any) => i.urgency === 'urgent');
    expect(item.requestingFacility).toMatch(/Bát Xát/);
    expect(item.modality).toBe('CT');
    const studyId = item.studyId;
    const auth = { ...reader, 'content-type': 'application/json' };
    expect(
      (
        await call(
          p,
          'PUT',
          `/api/imaging/studies/${studyId}/report`,
          { findings: 'x', impression: 'y' },
          { authorization: `Bearer ${station}`, 'content-type': 'application/json' },
        )
      ).status,
    ).toBe(403);
    const draft = await call(
      p,
      'PUT',
      `/api/imaging/studies/${studyId}/report`,
      { findings: 'Khối tròn đều, bờ rõ.', impression: 'Không thấy bất thường.', icd10: [{ code: 'R93.8' }] },
      auth,
    );
    expect(draft.status, draft.text).toBe(200);
    const signed = await call(p, 'POST', `/api/imaging/studies/${studyId}/report/sign`, undefined, reader);
    expect(signed.status, signed.text).toBe(200);
    expect((await call(p, 'PUT', `/api/imaging/studies/${studyId}/report`, { findings: 'a', impression: 'b' }, auth)).status).toBe(409);
    const report = (await call(p, 'GET', `/fhir/R4/DiagnosticReport/${signed.body.reportId}`)).body;
    expect(report.status).toBe('final');
    expect((await call(p, 'PUT', `/fhir/R4/DiagnosticReport/${report.id}`, { ...report, conclusion: 'changed' })).status).toBeGreaterThanOrEqual(409);
    const verify = await call(p, 'GET', `/api/imaging/studies/${studyId}/report/verify`, undefined, { authorization: `Bearer ${station}` });
    expect(verify.body.valid).toBe(true);
    const view = await call(p, 'GET', `/api/imaging/studies/${studyId}`, undefined, { authorization: `Bearer ${station}` });
    expect(view.body.reportSigned).toBe(true);
    expect(view.body.report.conclusion).toBe('Không thấy bất thường.');
    const notes = await p.db.query<{ title: string }>("SELECT title FROM notification WHERE kind = 'imaging' AND organization_id = $1", [
      demo.ids.organizations.batxat,
    ]);
    expect(notes.rows.map((r) => r.title)).toContain('Đã có kết quả đọc phim');
    expect((await call(p, 'GET', '/api/imaging/worklist', undefined, reader)).body.find((i: any) => i.studyId === studyId)).toBeUndefined();
  });
});
