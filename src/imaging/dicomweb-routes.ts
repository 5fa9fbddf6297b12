/**
 * DICOMweb (PS3.18) behind the platform's guard, the same for both image stores:
 *   STOW-RS  POST /api/imaging/dicomweb/patients/{patientId}/studies   (multipart/related; type="application/dicom")
 *   QIDO-RS  GET  …/dicomweb/studies, …/studies/{study}/series, …/studies/{study}[/series/{series}]/instances
 *   WADO-RS  GET  …/studies/{study}[/series/{series}[/instances/{sop}]]/metadata,
 *                 …/studies/{study}/series/{series}/instances/{sop}            (multipart/related application/dicom,
 *                                                                              or the bare file with Accept: application/dicom)
 *                 …/studies/{study}/series/{series}/instances/{sop}/frames/{n[,m…]}
 *
 * Rules: STOW names the patient in its path (a station sends for a patient it reaches; the file's
 * own PatientID is not trusted). Every other request opens the study through StudyService.open —
 * the ImagingStudy read with the caller's repository, audited — before the store is asked.
 * Study-wide QIDO lists only studies whose ImagingStudy the caller can search.
 */
import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { parseInput as parse } from '../http/input.ts';
import { badRequest, notFound } from '../fhir/outcome.ts';
import { dicomUid, resourceId, uploadRequest } from './contract.ts';
import { framesOf, InvalidDicom, TAG, type DicomJson } from './dicom.ts';
import { StudyService } from './studies.ts';
import { splitMultipart } from './multipart.ts';

type Params = { patientId?: string; study?: string; series?: string; sop?: string; frames?: string };
type R = FastifyRequest<{ Params: Params; Querystring: Record<string, string> }>;

const DICOM_JSON = 'application/dicom+json';
/** Largest STOW-RS body: big studies go through the resumable upload instead. */
export const STOW_MAX_BYTES = 256 * 1024 * 1024;

export async function dicomwebRoutes(app: FastifyInstance, opts: { studies: StudyService }): Promise<void> {
  const { studies } = opts;
  const backend = studies.backend;
  const view = { config: { access: { domain: 'imaging.view' as const } } };
  const upload = { config: { access: { domain: 'imaging.upload' as const } }, bodyLimit: STOW_MAX_BYTES };
  const base = '/api/imaging/dicomweb';

  app.addContentTypeParser(['multipart/related', 'application/dicom'], { parseAs: 'buffer', bodyLimit: STOW_MAX_BYTES }, (_req, body, done) =>
    done(null, body),
  );

  const uid = (v: string | undefined, name: string) => {
    const r = dicomUid.safeParse(v);
    if (!r.success) throw badRequest(`${name} không hợp lệ (invalid ${name})`);
    return r.data;
  };
  const sendJson = (reply: FastifyReply, list: DicomJson[]) => reply.type(DICOM_JSON).header('cache-control', 'private, no-store').send(list);
  const retrieveUrl = (study: string, series?: string, sop?: string) =>
    `${app.config.baseUrl}${base}/studies/${study}${series ? `/series/${series}` : ''}${sop ? `/instances/${sop}` : ''}`;

  // STOW-RS: all instances of the request are checked, then stored as one study, or none is.
  app.post(`${base}/patients/:patientId/studies`, upload, async (req: R, reply) => {
    const patientId = parse(resourceId, req.params.patientId);
    const body = req.body as Buffer | undefined;
    if (!Buffer.isBuffer(body) || body.length === 0) throw badRequest('Không có dữ liệu DICOM (empty body)');
    const type = String(req.headers['content-type'] ?? '');
    const parts = type.startsWith('multipart/related') ? splitMultipart(body, type) : [body];
    const checked = studies.check(parts.map((bytes, i) => ({ name: `Phần ${i + 1}`, bytes })));
    const request = req.query.hub ? parse(uploadRequest, { hubOrganizationId: req.query.hub, urgency: req.query.urgency ?? 'routine' }) : undefined;
    const study = await studies.ingest(req.ctx, patientId, checked, request);
    const studyUid = checked[0].parsed.studyUid;
    const response: DicomJson = {
      [TAG.RetrieveURL]: { vr: 'UR', Value: [retrieveUrl(studyUid)] },
      '00081199': {
        vr: 'SQ',
        Value: checked.map((c) => ({
          '00081150': { vr: 'UI', Value: [c.parsed.sopClassUid] },
          '00081155': { vr: 'UI', Value: [c.parsed.sopUid] },
          [TAG.RetrieveURL]: { vr: 'UR', Value: [retrieveUrl(studyUid, c.parsed.seriesUid, c.parsed.sopUid)] },
        })),
      },
    };
    return reply.code(200).header('x-imaging-study', study.id).type(DICOM_JSON).send(response);
  });

  // QIDO-RS, all studies: only those the caller can see in the record.
  app.get(`${base}/studies`, view, async (req: R, reply) => {
    const q = req.query;
    const wanted = q.StudyInstanceUID ?? q['0020000D'];
    const list = await studies.visible(req.ctx, wanted ? { studyUid: uid(wanted, 'StudyInstanceUID') } : {});
    const uids = list.map((s) => StudyService.uidOf(s)).filter((x): x is string => !!x);
    let found = await backend.studies(uids);
    const modality = q.ModalitiesInStudy ?? q['00080061'];
    if (modality) found = found.filter((j) => (j[TAG.ModalitiesInStudy]?.Value ?? []).includes(modality));
    found = found.map((j) => ({ ...j, [TAG.RetrieveURL]: { vr: 'UR', Value: [retrieveUrl(String(j[TAG.StudyInstanceUID]?.Value?.[0]))] } }));
    const limit = Math.min(Number(q.limit ?? 100) || 100, 500);
    const offset = Math.max(Number(q.offset ?? 0) || 0, 0);
    return sendJson(reply, found.slice(offset, offset + limit));
  });

  app.get(`${base}/studies/:study/series`, view, async (req: R, reply) => {
    const study = uid(req.params.study, 'StudyInstanceUID');
    await studies.open(req.ctx, study, 'qido-series');
    return sendJson(reply, await backend.series(study));
  });

  const instances = async (req: R, reply: FastifyReply) => {
    const study = uid(req.params.study, 'StudyInstanceUID');
    const series = req.params.series ? uid(req.params.series, 'SeriesInstanceUID') : undefined;
    await studies.open(req.ctx, study, 'qido-instances');
    return sendJson(reply, await backend.instances(study, series));
  };
  app.get(`${base}/studies/:study/instances`, view, instances);
  app.get(`${base}/studies/:study/series/:series/instances`, view, instances);

  const metadata = async (req: R, reply: FastifyReply) => {
    const study = uid(req.params.study, 'StudyInstanceUID');
    const series = req.params.series ? uid(req.params.series, 'SeriesInstanceUID') : undefined;
    const sop = req.params.sop ? uid(req.params.sop, 'SOPInstanceUID') : undefined;
    await studies.open(req.ctx, study, 'wado-metadata');
    const list = await backend.metadata(study, series, sop);
    if (!list.length) throw notFound('Không có ảnh nào (no instances)');
    return sendJson(
      reply,
      list.map((j) => {
        const s = String(j[TAG.SeriesInstanceUID]?.Value?.[0]);
        const i = String(j[TAG.SOPInstanceUID]?.Value?.[0]);
        return { ...j, [TAG.PixelData]: { vr: 'OW', BulkDataURI: `${retrieveUrl(study, s, i)}/frames/1` } };
      }),
    );
  };
  app.get(`${base}/studies/:study/metadata`, view, metadata);
  app.get(`${base}/studies/:study/series/:series/metadata`, view, metadata);
  app.get(`${base}/studies/:study/series/:series/instances/:sop/metadata`, view, metadata);

  const fileOf = async (req: R) => {
    const study = uid(req.params.study, 'StudyInstanceUID');
    const sop = uid(req.params.sop, 'SOPInstanceUID');
    await studies.open(req.ctx, study, req.params.frames ? 'wado-frames' : 'wado-instance');
    const bytes = await backend.file(study, sop);
    if (!bytes) throw notFound('Không tìm thấy ảnh (instance not found)');
    return bytes;
  };

  app.get(`${base}/studies/:study/series/:series/instances/:sop`, view, async (req: R, reply) => {
    const bytes = await fileOf(req);
    const accept = String(req.headers.accept ?? '');
    reply.header('cache-control', 'private, no-store');
    if (/^application\/dicom\b/.test(accept)) return reply.type('application/dicom').send(bytes);
    return multipart(reply, 'application/dicom', [bytes]);
  });

  app.get(`${base}/studies/:study/series/:series/instances/:sop/frames/:frames`, view, async (req: R, reply) => {
    const numbers = String(req.params.frames)
      .split(',')
      .map((x) => Number(x));
    if (numbers.length > 1000 || numbers.some((n) => !Number.isInteger(n) || n < 1)) throw badRequest('Số khung hình không hợp lệ (invalid frame numbers)');
    // Each frame at most once: an answer is never larger than the image's own pixel data.
    if (new Set(numbers).size !== numbers.length) throw badRequest('Số khung hình bị lặp lại (a frame number is repeated)');
    const bytes = await fileOf(req);
    try {
      const { contentType, frames } = framesOf(bytes, numbers);
      reply.header('cache-control', 'private, no-store');
      return multipart(reply, contentType, frames);
    } catch (err) {
      if (err instanceof InvalidDicom) throw badRequest(err.message);
      throw err;
    }
  });
}

function multipart(reply: FastifyReply, type: string, parts: Buffer[]) {
  const boundary = randomBytes(12).toString('hex');
  const chunks: Buffer[] = [];
  for (const p of parts) {
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Type: ${type}\r\n\r\n`));
    chunks.push(p);
    chunks.push(Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  const main = type.split(';')[0];
  return reply.type(`multipart/related; type="${main}"; boundary=${boundary}`).send(Buffer.concat(chunks));
}
