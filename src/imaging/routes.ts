/**
 * The imaging API the web app uses (besides DICOMweb): a patient's studies (chart section), one
 * study with its request, report and annotations (viewer), its first image (asked for together with
 * the study on a slow link: one round trip sooner), annotations, phone photos of a film,
 * the hub's worklist and the report (draft, sign, verify).
 *
 * Rules: each route declares its domain action; bodies are parsed with contract.ts; every read
 * goes through the caller's repository (reach checked, audited).
 */
import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ImagingStudy, Organization, Patient, ServiceRequest } from '@medplum/fhirtypes';
import { parseInput as parse } from '../http/input.ts';
import { badRequest, notFound } from '../fhir/outcome.ts';
import { annotationBody, photosBody, reportBody, resourceId, studyListQuery, type Annotation, type StudySummary, type StudyView } from './contract.ts';
import { jpegToSecondaryCapture, newUid } from './create.ts';
import { InvalidDicom } from './dicom.ts';
import { deidentify } from './deidentify.ts';
import { isSignedReport, refId, REQUESTING_ORG_EXT } from './model.ts';
import { patientName, reportOf, type ReportService } from './reports.ts';
import { StudyService } from './studies.ts';

type P = FastifyRequest<{ Params: { id: string } }>;

export async function imagingRoutes(app: FastifyInstance, opts: { studies: StudyService; reports: ReportService }): Promise<void> {
  const { studies, reports } = opts;
  const view = { config: { access: { domain: 'imaging.view' as const } } };
  const upload = { config: { access: { domain: 'imaging.upload' as const } } };
  const report = { config: { access: { domain: 'imaging.report' as const } } };
  const idOf = (req: P) => parse(resourceId, req.params.id);

  app.get('/api/imaging/studies', view, async (req): Promise<StudySummary[]> => {
    const q = parse(studyListQuery, req.query);
    const list = await studies.visible(req.ctx, { patient: q.patient });
    const repo = app.store.as(req.ctx, 'imaging.view');
    return repo.transaction(async (tx) => {
      const out: StudySummary[] = [];
      for (const s of list) {
        const pid = refId(s.subject, 'Patient')!;
        const r = await reportOf(tx, s.id!, pid);
        out.push({
          id: s.id!,
          studyUid: StudyService.uidOf(s)!,
          patientId: pid,
          patientName: patientName(await tx.tryRead<Patient>('Patient', pid)),
          started: s.started,
          modalities: s.modality?.map((m) => m.code!) ?? [],
          description: s.description,
          series: s.numberOfSeries ?? 0,
          instances: s.numberOfInstances ?? 0,
          ...(r ? { reportStatus: isSignedReport(r) ? ('signed' as const) : ('draft' as const) } : {}),
        });
      }
      return out;
    });
  });

  app.get('/api/imaging/studies/:id', view, async (req: P): Promise<StudyView> => {
    const id = idOf(req);
    return app.store.as(req.ctx, 'imaging.view').transaction(async (tx) => {
      const study = await tx.read<ImagingStudy>('ImagingStudy', id);
      const pid = refId(study.subject, 'Patient')!;
      const studyUid = StudyService.uidOf(study)!;
      const requestId = refId(study.basedOn?.[0], 'ServiceRequest');
      const request = requestId ? await tx.tryRead<ServiceRequest>('ServiceRequest', requestId) : undefined;
      const fromOrg = refId(request?.extension?.find((e) => e.url === REQUESTING_ORG_EXT)?.valueReference, 'Organization');
      const r = await reportOf(tx, id, pid);
      // A draft is the radiologist's work in progress: shown to readers only.
      const mayReport = req.ctx.actor.role === 'specialist';
      const shown = r && (isSignedReport(r) || mayReport) ? r : undefined;
      const rows = (
        await tx.sql.query<{
          id: string;
          sop_uid: string;
          kind: string;
          data: string | Record<string, unknown>;
          author_name: string | null;
          created_at: string | Date;
        }>('SELECT id, sop_uid, kind, data, author_name, created_at FROM imaging_annotation WHERE study_uid = $1 ORDER BY created_at', [studyUid])
      ).rows;
      const annotations: Annotation[] = rows.map((a) => {
        const data = (typeof a.data === 'string' ? JSON.parse(a.data) : a.data) as Omit<Annotation, 'id' | 'createdAt' | 'sopUid' | 'kind'>;
        return {
          ...data,
          id: a.id,
          sopUid: a.sop_uid,
          kind: a.kind as Annotation['kind'],
          ...(a.author_name ? { authorName: a.author_name } : {}),
          createdAt: new Date(a.created_at).toISOString(),
        };
      });
      await tx.record({ action: 'read', resourceType: 'ImagingStudy', resourceId: id, patientIds: [pid] });
      return {
        study,
        studyUid,
        patientName: patientName(await tx.tryRead<Patient>('Patient', pid)),
        ...(request ? { request } : {}),
        ...(fromOrg ? { requestingFacility: (await tx.tryRead<Organization>('Organization', fromOrg))?.name } : {}),
        ...(shown ? { report: shown } : {}),
        reportSigned: isSignedReport(r),
        annotations,
        backend: studies.backend.kind,
      };
    });
  });

  // The image the viewer shows first (first series, lowest instance number — web/src/imaging/shared.ts
  // seriesOf), as a bare Part 10 file: the study page asks for it alongside the study (early.ts)
  // instead of after it. Read through the caller's repository and audited like a WADO-RS instance.
  app.get('/api/imaging/studies/:id/first-image', view, async (req: P, reply) => {
    const id = idOf(req);
    const { studyUid, sop } = await app.store.as(req.ctx, 'imaging.view').transaction(async (tx) => {
      const study = await tx.read<ImagingStudy>('ImagingStudy', id);
      const uid = StudyService.uidOf(study);
      const first = [...(study.series?.[0]?.instance ?? [])].sort((a, b) => (a.number ?? 0) - (b.number ?? 0))[0];
      if (!uid || !first) throw notFound('Ca chụp chưa có ảnh (no instances)');
      const pid = refId(study.subject, 'Patient');
      await tx.record({ action: 'read', resourceType: 'ImagingStudy', resourceId: id, patientIds: pid ? [pid] : [], detail: { dicomweb: 'first-image' } });
      return { studyUid: uid, sop: first.uid };
    });
    const bytes = await studies.backend.file(studyUid, sop);
    if (!bytes) throw notFound('Không tìm thấy ảnh (instance not found)');
    return reply.type('application/dicom').header('cache-control', 'private, no-store').header('x-sop-instance-uid', sop).send(bytes);
  });

  app.post('/api/imaging/studies/:id/annotations', upload, async (req: P, reply) => {
    const id = idOf(req);
    const input = parse(annotationBody, req.body);
    const out = await app.store.as(req.ctx, 'imaging.upload').transaction(async (tx) => {
      const study = await tx.read<ImagingStudy>('ImagingStudy', id);
      const studyUid = StudyService.uidOf(study)!;
      if (!study.series?.some((s) => s.instance?.some((i) => i.uid === input.sopUid)))
        throw badRequest('Ảnh không thuộc ca chụp này (instance not in this study)');
      const annotationId = randomUUID();
      const { sopUid, kind, ...data } = input;
      await tx.sql.query(
        'INSERT INTO imaging_annotation (id, study_uid, sop_uid, kind, data, author_account, author_name) VALUES ($1, $2, $3, $4, $5, $6, $7)',
        [annotationId, studyUid, sopUid, kind, JSON.stringify(data), req.ctx.actor.accountId ?? null, req.ctx.actor.displayName ?? null],
      );
      await tx.record({
        action: 'imaging.annotate',
        resourceType: 'ImagingStudy',
        resourceId: id,
        patientIds: [refId(study.subject, 'Patient')!],
        detail: { kind },
      });
      return { id: annotationId };
    });
    return reply.code(201).send(out);
  });

  // Phone photos of a film or screen: one Secondary Capture study with the patient's identifiers.
  app.post('/api/imaging/photos', { ...upload, bodyLimit: 128 * 1024 * 1024 }, async (req, reply) => {
    const input = parse(photosBody, req.body);
    const patient = await app.store.as(req.ctx, 'imaging.upload').read<Patient>('Patient', input.patientId);
    const name = patient.name?.[0];
    const ids = {
      family: name?.family ?? '',
      given: (name?.given ?? []).join(' '),
      patientId: patient.id!,
      birthDate: patient.birthDate,
      sex: patient.gender,
    };
    const studyUid = newUid();
    const seriesUid = newUid();
    let files: Buffer[];
    try {
      files = input.photos.map((b64, i) =>
        jpegToSecondaryCapture(Buffer.from(b64, 'base64'), ids, { studyUid, seriesUid, instanceNumber: i + 1, description: input.description }),
      );
    } catch (err) {
      if (err instanceof InvalidDicom) throw badRequest(`${err.message}. Không ảnh nào được lưu (nothing was stored).`);
      throw err;
    }
    const study = await studies.ingest(req.ctx, input.patientId, studies.check(files.map((bytes) => ({ bytes }))), input.request);
    return reply.code(201).send({ id: study.id, studyUid });
  });

  // A de-identified teaching copy (PS3.15 basic profile) of the whole study, as DICOMweb multipart.
  app.get('/api/imaging/studies/:id/deidentified', upload, async (req: P, reply) => {
    const id = idOf(req);
    const { studyUid, patientId } = await app.store.as(req.ctx, 'imaging.upload').transaction(async (tx) => {
      const study = await tx.read<ImagingStudy>('ImagingStudy', id);
      const pid = refId(study.subject, 'Patient')!;
      await tx.record({ action: 'imaging.export', resourceType: 'ImagingStudy', resourceId: id, patientIds: [pid], detail: { deidentified: true } });
      return { studyUid: StudyService.uidOf(study)!, patientId: pid };
    });
    const hash = (t: string) => app.secret.hmac(`imaging-deid:${t}`);
    const pseudonym = `CA-${hash(patientId).slice(0, 8).toUpperCase()}`;
    const parts: Buffer[] = [];
    let burntIn = false;
    for (const j of await studies.backend.instances(studyUid)) {
      const bytes = await studies.backend.file(studyUid, String(j['00080018']?.Value?.[0]));
      if (!bytes) continue;
      const out = deidentify(bytes, hash, pseudonym);
      burntIn ||= out.burntIn;
      parts.push(out.bytes);
    }
    const boundary = randomUUID().replace(/-/g, '');
    const body = Buffer.concat([
      ...parts.flatMap((b) => [Buffer.from(`--${boundary}\r\nContent-Type: application/dicom\r\n\r\n`), b, Buffer.from('\r\n')]),
      Buffer.from(`--${boundary}--\r\n`),
    ]);
    if (burntIn) reply.header('x-burnt-in-text', 'possible: check the pixels before teaching use (có thể có chữ in trên ảnh)');
    return reply
      .type(`multipart/related; type="application/dicom"; boundary=${boundary}`)
      .header('content-disposition', `attachment; filename="ca-chup-an-danh-${pseudonym}.dcm.multipart"`)
      .header('cache-control', 'private, no-store')
      .send(body);
  });

  app.get('/api/imaging/worklist', report, async (req) => reports.worklist(req.ctx));
  app.put('/api/imaging/studies/:id/report', report, async (req: P) => reports.draft(req.ctx, idOf(req), parse(reportBody, req.body)));
  app.post('/api/imaging/studies/:id/report/sign', report, async (req: P) => reports.sign(req.ctx, idOf(req)));
  app.get('/api/imaging/studies/:id/report/verify', view, async (req: P) => reports.verify(req.ctx, idOf(req)));
}
