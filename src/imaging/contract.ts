/**
 * The contract between the server and the web app for imaging: the zod schema of every JSON
 * request body (routes parse with them) and the TypeScript types of the responses.
 *
 * Rules: the web imports this file with `import type` only; nothing here imports server code.
 */
import { z } from 'zod';
import type { DiagnosticReport, ImagingStudy, ServiceRequest } from '@medplum/fhirtypes';

const id = z.string().regex(/^[A-Za-z0-9\-.]{1,64}$/, 'must be a resource id');
export const resourceId = id;
export const dicomUid = z
  .string()
  .regex(/^[0-9]+(\.[0-9]+)*$/, 'must be a DICOM UID')
  .max(64);

export const URGENCIES = ['routine', 'urgent', 'asap', 'stat'] as const;

export const uploadRequest = z.object({
  hubOrganizationId: id,
  urgency: z.enum(URGENCIES).default('routine'),
  question: z.string().max(2000).optional(),
});
export type UploadRequest = z.infer<typeof uploadRequest>;

/** Finishing a resumable upload: the tus uploads that together make one study. */
export const commitBody = z.object({
  patientId: id,
  uploadIds: z
    .array(z.string().regex(/^[A-Za-z0-9_-]{8,80}$/))
    .min(1)
    .max(2000),
  request: uploadRequest.optional(),
});

/** Phone photos of a film or screen (JPEG, base64), turned into one Secondary Capture study. */
export const photosBody = z.object({
  patientId: id,
  photos: z.array(z.string().min(4).max(20_000_000)).min(1).max(20),
  description: z.string().max(200).optional(),
  request: uploadRequest.optional(),
});

export const studyListQuery = z.object({ patient: id.optional() });

export const annotationBody = z.object({
  sopUid: dicomUid,
  kind: z.enum(['length', 'angle', 'note']),
  /** Image coordinates (pixels) of the points; the value the viewer measured (mm or degrees). */
  points: z
    .array(z.tuple([z.number(), z.number()]))
    .min(1)
    .max(4),
  value: z.number().optional(),
  unit: z.enum(['mm', 'deg', 'px']).optional(),
  text: z.string().max(500).optional(),
});
export type AnnotationInput = z.infer<typeof annotationBody>;

export const reportBody = z.object({
  findings: z.string().min(1).max(10_000),
  impression: z.string().min(1).max(4_000),
  icd10: z
    .array(z.object({ code: z.string().regex(/^[A-Z][0-9]{2}(\.[0-9A-Z]{1,4})?$/, 'must be an ICD-10 code'), display: z.string().max(300).optional() }))
    .max(10)
    .default([]),
});
export type ReportInput = z.infer<typeof reportBody>;

export interface Annotation extends AnnotationInput {
  id: string;
  authorName?: string;
  createdAt: string;
}

export interface StudySummary {
  id: string;
  studyUid: string;
  patientId: string;
  patientName?: string;
  started?: string;
  modalities: string[];
  description?: string;
  series: number;
  instances: number;
  reportStatus?: 'draft' | 'signed';
}

export interface StudyView {
  study: ImagingStudy;
  studyUid: string;
  patientName?: string;
  request?: ServiceRequest;
  requestingFacility?: string;
  report?: DiagnosticReport;
  reportSigned: boolean;
  signedBy?: string;
  annotations: Annotation[];
  /** The image store behind the DICOMweb routes. */
  backend: 'embedded' | 'orthanc';
}

export interface WorklistItem {
  studyId: string;
  requestId: string;
  patientName?: string;
  urgency: (typeof URGENCIES)[number];
  requestedAt?: string;
  waitingMinutes: number;
  modality: string;
  requestingFacility?: string;
  question?: string;
  instances: number;
  reportStatus: 'none' | 'draft';
}
