/**
 * Studies in the record: storing a checked set of instances for a patient (all or nothing) and
 * linking it as a FHIR ImagingStudy (+ the store's Endpoint, + an optional reading request to a
 * hub as a ServiceRequest), and the access check every DICOMweb request goes through.
 *
 * Rules:
 * - every file of an upload is parsed and checked before anything is stored; one bad file refuses
 *   the whole upload;
 * - the image store is written first, then the record in one transaction; if the record fails,
 *   a study that was new is removed from the store again (a study never exists half);
 * - a StudyInstanceUID belongs to one patient for ever (imaging_study); adding instances to a
 *   study of another patient is refused;
 * - `open(ctx, studyUid)` reads the ImagingStudy through the caller's repository (reach, consent,
 *   break-the-glass, scopes — audited like FHIR) before any byte is served.
 */
import type { Endpoint, ImagingStudy, Patient, ServiceRequest } from '@medplum/fhirtypes';
import type { AccessContext } from '../auth/actor.ts';
import type { FhirStore } from '../fhir/store.ts';
import { badRequest, conflict, notFound } from '../fhir/outcome.ts';
import type { EventBus } from '../events/bus.ts';
import { addNotification } from '../events/outbox.ts';
import type { CheckedFile, DicomBackend } from './backend.ts';
import { InvalidDicom, TAG, parseInstance, type DicomJson } from './dicom.ts';
import { parseInstanceFile } from './staged.ts';
import { IMAGING_CATEGORY, ENDPOINT_ID_SYSTEM, REQUESTING_ORG_EXT, STUDY_UID_SYSTEM, studyRef } from './model.ts';
import type { UploadRequest } from './contract.ts';

export interface OpenStudy {
  studyUid: string;
  imagingStudyId: string;
  patientId: string;
}

export class StudyService {
  private endpointId?: string;

  constructor(
    private readonly store: FhirStore,
    private readonly bus: EventBus,
    readonly backend: DicomBackend,
    private readonly baseUrl: string,
  ) {}

  /** Parses every file; throws (a 400 naming the file) at the first one that is not a usable DICOM instance. */
  check(files: { name?: string; bytes: Buffer }[]): CheckedFile[] {
    if (files.length === 0) throw badRequest('Không có tệp nào (no files)');
    return files.map((f, i) => {
      try {
        return { bytes: f.bytes, parsed: parseInstance(f.bytes) };
      } catch (err) {
        if (err instanceof InvalidDicom) throw badRequest(`${f.name ?? `Tệp ${i + 1}`}: ${err.message}. Không tệp nào được lưu (nothing was stored).`);
        throw err;
      }
    });
  }

  /**
   * The same checks on staged files on disk (resumable uploads), one file at a time and reading
   * only each file's header where possible: memory stays bounded whatever the study's size.
   */
  async checkStaged(files: { name: string; path: string; sha256: string }[]): Promise<CheckedFile[]> {
    if (files.length === 0) throw badRequest('Không có tệp nào (no files)');
    const out: CheckedFile[] = [];
    for (const f of files) {
      try {
        out.push({ path: f.path, parsed: await parseInstanceFile(f.path, f.sha256) });
      } catch (err) {
        if (err instanceof InvalidDicom) throw badRequest(`${f.name}: ${err.message}. Không tệp nào được lưu (nothing was stored).`);
        throw err;
      }
    }
    return out;
  }

  /** The store's Endpoint (directory resource), created once. */
  private async endpoint(): Promise<string> {
    if (this.endpointId) return this.endpointId;
    const sys = this.store.system('imaging store endpoint', 'imaging');
    const value = `dicomweb-${this.backend.kind}`;
    const found = await sys.searchOne<Endpoint>('Endpoint', { identifier: `${ENDPOINT_ID_SYSTEM}|${value}` });
    const e =
      found ??
      (await sys.create<Endpoint>({
        resourceType: 'Endpoint',
        identifier: [{ system: ENDPOINT_ID_SYSTEM, value }],
        status: 'active',
        name: this.backend.kind === 'orthanc' ? 'Kho ảnh DICOMweb (Orthanc)' : 'Kho ảnh DICOMweb (tích hợp)',
        connectionType: { system: 'http://terminology.hl7.org/CodeSystem/endpoint-connection-type', code: 'dicom-wado-rs' },
        payloadType: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/endpoint-payload-type', code: 'DICOM' }] }],
        payloadMimeType: ['application/dicom'],
        address: `${this.baseUrl}/api/imaging/dicomweb`,
      }));
    this.endpointId = e.id!;
    return e.id!;
  }

  /**
   * Stores one study for a patient and links it to the record. All files must belong to one
   * study. With `request`, a reading is asked of a hub (ServiceRequest, the hub notified).
   */
  async ingest(ctx: AccessContext, patientId: string, checked: CheckedFile[], request?: UploadRequest): Promise<ImagingStudy> {
    const studyUids = new Set(checked.map((c) => c.parsed.studyUid));
    if (studyUids.size !== 1) throw badRequest(`Các tệp thuộc ${studyUids.size} ca chụp khác nhau; mỗi lần gửi một ca (files belong to different studies)`);
    const studyUid = [...studyUids][0];
    const repo = this.store.as(ctx, 'imaging.upload');
    await repo.read<Patient>('Patient', patientId); // reach, before any byte is stored
    const link = await this.link(repo.sql, studyUid);
    if (link && link.patient_id !== patientId) throw conflict('Ca chụp này đã thuộc về người bệnh khác (this study belongs to another patient)');
    const wasNew = !(await this.backend.hasStudy(studyUid));
    await this.backend.storeAll(checked);
    const endpointId = await this.endpoint();
    try {
      const study = await repo.transaction(async (tx) => {
        await tx.read<Patient>('Patient', patientId);
        const again = await this.link(tx.sql, studyUid);
        if (again && again.patient_id !== patientId) throw conflict('Ca chụp này đã thuộc về người bệnh khác (this study belongs to another patient)');
        const metadata = await this.backend.metadata(studyUid);
        let basedOn: ServiceRequest | undefined;
        if (request && !again) basedOn = await tx.create<ServiceRequest>(readingRequest(ctx, patientId, request, metadata));
        const body = imagingStudy(patientId, studyUid, metadata, endpointId, basedOn?.id);
        let saved: ImagingStudy;
        if (again) {
          const existing = await tx.read<ImagingStudy>('ImagingStudy', again.imaging_study_id);
          saved = await tx.update<ImagingStudy>({ ...body, id: existing.id, basedOn: existing.basedOn, started: existing.started ?? body.started });
        } else {
          saved = await tx.create<ImagingStudy>(body);
          await tx.sql.query('INSERT INTO imaging_study (study_uid, imaging_study_id, patient_id, backend) VALUES ($1, $2, $3, $4)', [
            studyUid,
            saved.id,
            patientId,
            this.backend.kind,
          ]);
          if (request) await addNotification(tx.sql, { organizationId: request.hubOrganizationId }, 'imaging', 'Ca chụp mới cần đọc', `/imaging/${saved.id}`);
        }
        await tx.record({
          action: 'imaging.upload',
          resourceType: 'ImagingStudy',
          resourceId: saved.id,
          patientIds: [patientId],
          detail: { instances: checked.length, backend: this.backend.kind },
        });
        return { saved, hub: basedOn ? request?.hubOrganizationId : undefined };
      });
      if (study.hub) await this.bus.publish({ kind: 'imaging.new', to: { organizationIds: [study.hub] }, data: { studyId: study.saved.id! } });
      return study.saved;
    } catch (err) {
      if (wasNew) await this.backend.deleteStudy(studyUid).catch(() => undefined);
      throw err;
    }
  }

  private async link(sql: { query: (s: string, p: unknown[]) => Promise<{ rows: unknown[] }> }, studyUid: string) {
    const rows = (await sql.query('SELECT imaging_study_id, patient_id FROM imaging_study WHERE study_uid = $1', [studyUid])).rows as {
      imaging_study_id: string;
      patient_id: string;
    }[];
    return rows[0];
  }

  /**
   * The access check of every DICOMweb request: the study's ImagingStudy read through the caller's
   * repository, one audited unit naming the patient and what was fetched.
   */
  async open(ctx: AccessContext, studyUid: string, what: string): Promise<OpenStudy> {
    const repo = this.store.as(ctx, 'imaging.view');
    return repo.transaction(async (tx) => {
      const link = await this.link(tx.sql, studyUid);
      if (!link) throw notFound('Không tìm thấy ca chụp (study not found)');
      await tx.read<ImagingStudy>('ImagingStudy', link.imaging_study_id);
      await tx.record({
        action: 'read',
        resourceType: 'ImagingStudy',
        resourceId: link.imaging_study_id,
        patientIds: [link.patient_id],
        detail: { dicomweb: what },
      });
      return { studyUid, imagingStudyId: link.imaging_study_id, patientId: link.patient_id };
    });
  }

  /** The ImagingStudies the caller can see (optionally one patient's), newest first. */
  async visible(ctx: AccessContext, params: { patient?: string; studyUid?: string } = {}): Promise<ImagingStudy[]> {
    const repo = this.store.as(ctx, 'imaging.view');
    const search: Record<string, string> = { _sort: '-started', _count: '100' };
    if (params.patient) search.subject = `Patient/${params.patient}`;
    if (params.studyUid) search.identifier = `${STUDY_UID_SYSTEM}|urn:oid:${params.studyUid}`;
    return repo.search<ImagingStudy>('ImagingStudy', search);
  }

  /** The StudyInstanceUID of an ImagingStudy (from its identifier). */
  static uidOf(s: ImagingStudy): string | undefined {
    return s.identifier?.find((i) => i.system === STUDY_UID_SYSTEM)?.value?.replace(/^urn:oid:/, '');
  }
}

function str(j: DicomJson, tag: string): string | undefined {
  const v = j[tag]?.Value?.[0];
  return v === undefined || v === null ? undefined : String(v);
}

function dicomDate(d?: string, t?: string): string | undefined {
  if (!d || !/^\d{8}$/.test(d)) return undefined;
  const time = t && /^\d{6}/.test(t) ? `T${t.slice(0, 2)}:${t.slice(2, 4)}:${t.slice(4, 6)}+07:00` : '';
  return `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 8)}${time}`;
}

/** The ImagingStudy for a study's instances (series and instances listed, in reading order). */
export function imagingStudy(patientId: string, studyUid: string, metadata: DicomJson[], endpointId: string, basedOn?: string): ImagingStudy {
  const series = new Map<string, DicomJson[]>();
  for (const j of metadata) {
    const s = str(j, TAG.SeriesInstanceUID)!;
    series.set(s, [...(series.get(s) ?? []), j]);
  }
  const first = metadata[0] ?? {};
  const started = dicomDate(str(first, TAG.StudyDate), str(first, TAG.StudyTime));
  const modalities = [...new Set(metadata.map((j) => str(j, TAG.Modality) ?? 'OT'))];
  return {
    resourceType: 'ImagingStudy',
    identifier: [{ system: STUDY_UID_SYSTEM, value: `urn:oid:${studyUid}` }],
    status: 'available',
    subject: studyRef(patientId),
    ...(started ? { started } : {}),
    ...(basedOn ? { basedOn: [{ reference: `ServiceRequest/${basedOn}` }] } : {}),
    modality: modalities.map((code) => ({ system: 'http://dicom.nema.org/resources/ontology/DCM', code })),
    endpoint: [{ reference: `Endpoint/${endpointId}` }],
    numberOfSeries: series.size,
    numberOfInstances: metadata.length,
    ...(str(first, TAG.StudyDescription) ? { description: str(first, TAG.StudyDescription)!.slice(0, 200) } : {}),
    series: [...series.entries()].map(([uid, list]) => ({
      uid,
      ...(str(list[0], TAG.SeriesNumber) ? { number: Number(str(list[0], TAG.SeriesNumber)) } : {}),
      modality: { system: 'http://dicom.nema.org/resources/ontology/DCM', code: str(list[0], TAG.Modality) ?? 'OT' },
      ...(str(list[0], TAG.SeriesDescription) ? { description: str(list[0], TAG.SeriesDescription)!.slice(0, 200) } : {}),
      numberOfInstances: list.length,
      instance: list.map((j) => ({
        uid: str(j, TAG.SOPInstanceUID)!,
        sopClass: { system: 'urn:ietf:rfc:3986', code: `urn:oid:${str(j, TAG.SOPClassUID)}` },
        ...(str(j, TAG.InstanceNumber) ? { number: Number(str(j, TAG.InstanceNumber)) } : {}),
      })),
    })),
  };
}

/** A request that a hub read the study (urgency, requesting facility and clinician, the question). */
function readingRequest(ctx: AccessContext, patientId: string, r: UploadRequest, metadata: DicomJson[]): ServiceRequest {
  const modality = str(metadata[0] ?? {}, TAG.Modality) ?? 'OT';
  const requester = ctx.actor.practitionerId ? { reference: `Practitioner/${ctx.actor.practitionerId}` } : undefined;
  return {
    resourceType: 'ServiceRequest',
    status: 'active',
    intent: 'order',
    priority: r.urgency,
    category: [{ coding: [IMAGING_CATEGORY] }],
    code: { coding: [{ system: 'http://dicom.nema.org/resources/ontology/DCM', code: modality }], text: `Đọc phim ${modality}` },
    subject: studyRef(patientId),
    authoredOn: new Date().toISOString(),
    ...(requester ? { requester } : {}),
    performer: [{ reference: `Organization/${r.hubOrganizationId}` }],
    ...(ctx.actor.organizationId
      ? { extension: [{ url: REQUESTING_ORG_EXT, valueReference: { reference: `Organization/${ctx.actor.organizationId}` } }] }
      : {}),
    ...(r.question ? { note: [{ text: r.question.slice(0, 2000) }] } : {}),
  };
}
