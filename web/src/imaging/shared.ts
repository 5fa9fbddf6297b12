/** Small things the imaging pages share: the urgency values (as the contract has them) and image ids. */
import type { ImagingStudy } from '@medplum/fhirtypes';

export const URGENCY_VALUES = ['routine', 'urgent', 'asap', 'stat'] as const;

/**
 * The station's upload (Upload.tsx), also used by the weak-link bench's client: tus chunks of
 * 1 MiB (fewer round trips than 256 KiB; a dropped link loses at most one chunk) and 3 files in
 * flight (a 130 kB CT slice alone cannot fill a 300 ms round-trip link).
 */
export const UPLOAD_CHUNK_BYTES = 1024 * 1024;
export const UPLOAD_FILES_IN_FLIGHT = 3;

/** The Cornerstone image id of an instance: our guarded WADO-RS route, fetched as a bare Part 10 file. */
export function imageIdOf(studyUid: string, seriesUid: string, sopUid: string): string {
  return `wadouri:/api/imaging/dicomweb/studies/${studyUid}/series/${seriesUid}/instances/${sopUid}`;
}

/** The series of a study, each with its image ids in instance order. */
export function seriesOf(study: ImagingStudy, studyUid: string): { uid: string; label: string; imageIds: string[] }[] {
  return (study.series ?? []).map((s) => ({
    uid: s.uid,
    label: [s.modality?.code, s.description].filter(Boolean).join(' · '),
    imageIds: [...(s.instance ?? [])].sort((a, b) => (a.number ?? 0) - (b.number ?? 0)).map((i) => imageIdOf(studyUid, s.uid, i.uid)),
  }));
}

export const sopOfImageId = (imageId: string): string => imageId.split('/').pop()!;
