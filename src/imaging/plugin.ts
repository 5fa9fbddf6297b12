/**
 * Remote diagnostic imaging as a plugin: the image store (ORTHANC_URL, a supervised local Orthanc,
 * or the embedded file store), studies linked to the record, guarded DICOMweb, resumable uploads,
 * the reading workflow (worklist, signed reports), what the domain owns and the rule that signed
 * reports never change.
 */
import { join } from 'node:path';
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../config.ts';
import { conflict } from '../fhir/outcome.ts';
import type { DicomBackend } from './backend.ts';
import { dicomwebRoutes } from './dicomweb-routes.ts';
import { EmbeddedStore } from './embedded.ts';
import { isImagingReport, isImagingStudy, isReadingRequest, isReportSignature, isSignedReport } from './model.ts';
import { OrthancStore, OrthancSupervisor } from './orthanc.ts';
import { ReportService } from './reports.ts';
import { imagingRoutes } from './routes.ts';
import { StudyService } from './studies.ts';
import { uploadRoutes } from './uploads.ts';

declare module 'fastify' {
  interface FastifyInstance {
    imaging: StudyService;
  }
}

/** ORTHANC_URL, else a supervised local Orthanc when installed (CAUYTE_ORTHANC=auto), else the embedded store. */
export async function openBackend(config: Config): Promise<{ backend: DicomBackend; supervisor?: OrthancSupervisor }> {
  if (config.ORTHANC_URL) {
    const creds = config.ORTHANC_USERNAME ? { username: config.ORTHANC_USERNAME, password: config.ORTHANC_PASSWORD ?? '' } : undefined;
    return { backend: new OrthancStore(config.ORTHANC_URL.replace(/\/$/, ''), creds) };
  }
  if (config.CAUYTE_ORTHANC === 'auto' && OrthancSupervisor.available(config.CAUYTE_ORTHANC_BINARY)) {
    const supervisor = new OrthancSupervisor(join(config.dataDir, 'orthanc'), config.CAUYTE_ORTHANC_BINARY);
    const url = await supervisor.start();
    return { backend: new OrthancStore(url, supervisor.credentials), supervisor };
  }
  return { backend: new EmbeddedStore(join(config.dataDir, 'imaging')) };
}

async function imagingPlugin(app: FastifyInstance): Promise<void> {
  const { backend, supervisor } = await openBackend(app.config);
  const studies = new StudyService(app.store, app.bus, backend, app.config.baseUrl);
  const reports = new ReportService(app.store, app.bus, app.secret);
  const own = (label: string, route: string, owns: Parameters<typeof app.store.owns>[0]['owns']) => app.store.owns({ domain: 'imaging', label, route, owns });
  own('Ca chụp chẩn đoán hình ảnh (ImagingStudy)', 'POST /api/imaging/uploads/commit, /api/imaging/photos, STOW-RS', isImagingStudy);
  own('Yêu cầu đọc phim (ServiceRequest)', 'POST /api/imaging/uploads/commit (request)', isReadingRequest);
  own('Kết quả chẩn đoán hình ảnh (DiagnosticReport)', 'PUT /api/imaging/studies/{id}/report', isImagingReport);
  own('Chữ ký kết quả chẩn đoán hình ảnh (Provenance)', 'POST /api/imaging/studies/{id}/report/sign', isReportSignature);
  app.store.addChangeRule((existing) => {
    if (isSignedReport(existing)) throw conflict('Kết quả chẩn đoán hình ảnh đã ký không thể sửa hay xóa (a signed imaging report cannot be changed)');
  });
  app.decorate('imaging', studies);
  await app.register(dicomwebRoutes, { studies });
  await app.register(imagingRoutes, { studies, reports });
  await app.register(uploadRoutes, { studies, dir: join(app.config.dataDir, 'imaging', 'uploads') });
  app.addHook('onClose', async () => {
    await backend.close();
    await supervisor?.stop();
  });
}

export default fp(imagingPlugin, { name: 'imaging', dependencies: ['events', 'fhir'] });
