/**
 * The one interface both image stores implement (the embedded file store and Orthanc), so the
 * guarded DICOMweb routes, the upload and the tests do not care which one runs.
 *
 * Rules: a back end knows nothing of patients, accounts or access — the routes decide who may see
 * a study (through its ImagingStudy in the record) before a back end is asked. `storeAll` is all
 * or nothing for the instances it is given; a study that is not linked to the record is never
 * served, so bytes left behind by a crash are invisible. Staged files (`path`) are streamed into
 * the store, never read whole into memory.
 */
import type { DicomJson, ParsedInstance } from './dicom.ts';
import { TAG } from './dicom.ts';

/** A checked instance: its bytes in memory (STOW-RS, photos) or a staged file on disk (resumable uploads, streamed to the store). */
export type CheckedFile = { parsed: ParsedInstance } & ({ bytes: Buffer; path?: undefined } | { path: string; bytes?: undefined });

export interface DicomBackend {
  readonly kind: 'embedded' | 'orthanc';
  /** Stores checked instances, all or none. Instances already stored (same SOP Instance UID) are kept once. */
  storeAll(files: CheckedFile[]): Promise<{ stored: number; alreadyStored: number }>;
  /** Whether any instance of the study is stored. */
  hasStudy(studyUid: string): Promise<boolean>;
  /** Study-level QIDO attributes of these studies (those stored). */
  studies(studyUids: string[]): Promise<DicomJson[]>;
  series(studyUid: string): Promise<DicomJson[]>;
  instances(studyUid: string, seriesUid?: string): Promise<DicomJson[]>;
  /** Full metadata (no pixel data) of the study's instances, optionally one series or instance. */
  metadata(studyUid: string, seriesUid?: string, sopUid?: string): Promise<DicomJson[]>;
  /** The Part 10 file of an instance. */
  file(studyUid: string, sopUid: string): Promise<Buffer | undefined>;
  deleteStudy(studyUid: string): Promise<void>;
  /** Readiness (/readyz): resolves when the store answers (Orthanc's /system with the platform's credentials). */
  ready?(): Promise<void>;
  close(): Promise<void>;
}

const STUDY_TAGS = [
  '00080005',
  '00080020',
  '00080030',
  '00080050',
  '00080090',
  '00100010',
  '00100020',
  '00100030',
  '00100040',
  '0020000D',
  '00200010',
  '00081030',
];
const SERIES_TAGS = ['00080005', '00080060', '0020000E', '00200011', '0008103E', '0020000D'];
const INSTANCE_TAGS = ['00080005', '00080016', '00080018', '0020000D', '0020000E', '00200013', '00280008', '00280010', '00280011'];

export function pick(json: DicomJson, tags: string[]): DicomJson {
  const out: DicomJson = {};
  for (const t of tags) if (json[t]) out[t] = json[t];
  return out;
}

/** QIDO study/series/instance attributes computed from the instances' metadata (embedded store). */
export function studyAttributes(instances: DicomJson[]): DicomJson {
  const out = pick(instances[0], STUDY_TAGS);
  const modalities = [...new Set(instances.map((i) => i[TAG.Modality]?.Value?.[0]).filter(Boolean))] as string[];
  out[TAG.ModalitiesInStudy] = { vr: 'CS', Value: modalities };
  out[TAG.NumberOfStudyRelatedSeries] = { vr: 'IS', Value: [new Set(instances.map((i) => i[TAG.SeriesInstanceUID]?.Value?.[0])).size] };
  out[TAG.NumberOfStudyRelatedInstances] = { vr: 'IS', Value: [instances.length] };
  return out;
}

export function seriesAttributes(instances: DicomJson[]): DicomJson[] {
  const bySeries = new Map<string, DicomJson[]>();
  for (const i of instances) {
    const s = String(i[TAG.SeriesInstanceUID]?.Value?.[0]);
    bySeries.set(s, [...(bySeries.get(s) ?? []), i]);
  }
  return [...bySeries.values()].map((list) => ({
    ...pick(list[0], SERIES_TAGS),
    [TAG.NumberOfSeriesRelatedInstances]: { vr: 'IS', Value: [list.length] },
  }));
}

export function instanceAttributes(instances: DicomJson[]): DicomJson[] {
  return instances.map((i) => pick(i, INSTANCE_TAGS));
}

/** Instances in reading order: by series number, then instance number. */
export function byReadingOrder(a: DicomJson, b: DicomJson): number {
  const n = (j: DicomJson, t: string) => Number(j[t]?.Value?.[0] ?? 0);
  return n(a, TAG.SeriesNumber) - n(b, TAG.SeriesNumber) || n(a, TAG.InstanceNumber) - n(b, TAG.InstanceNumber);
}
