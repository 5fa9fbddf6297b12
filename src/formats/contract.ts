/**
 * Request and response shapes of the national-formats API (the web imports these as types only).
 * Rules: zod schemas for every input; answers typed here.
 */
import { z } from 'zod';

export const visitId = z.string().regex(/^[A-Za-z0-9\-.]{1,64}$/, 'a visit id');
export const rxStatusCode = z.string().regex(/^[A-Z0-9]{5}[a-z0-9]{7}-[cnhy]$/, 'an e-prescription code');
export const xmlQuery = z.object({ doc: z.enum(['envelope', 'checkin']).default('envelope') }).strict();
export const claimListQuery = z.object({ status: z.enum(['queued', 'checked-in', 'sent', 'rejected', 'failed']).optional() }).strict();

export type ClaimStatus = 'queued' | 'checked-in' | 'sent' | 'rejected' | 'failed';

/** One problem that keeps a visit from being signed and sent: which table, row and column. */
export interface ClaimProblem {
  table: string;
  row: number;
  column: string;
  problem: string;
  detail?: string;
}

export interface SubmissionView {
  status: ClaimStatus;
  attempts: number;
  transactionCode?: string;
  receivedAt?: string;
  resultCode?: string;
  lastError?: string;
  updatedAt: string;
}

/** `GET /api/claims/visits/:id` — can this visit be sent, and where is it. */
export interface ClaimView {
  visitKey: string;
  facilityCode?: string;
  patientName: string;
  ready: boolean;
  tables: string[];
  problems: ClaimProblem[];
  submission?: SubmissionView;
}

export interface ClaimListItem extends SubmissionView {
  visitKey: string;
  encounterId: string;
}
