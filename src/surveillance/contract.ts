/**
 * The contract between the server and the web app for early warning (src/surveillance/routes.ts):
 * the officer's signals and per-place series, a decision on a signal, the suppressed aggregates
 * other roles may see, and the administrator's loads (disease list, population, centres).
 * Request schemas (zod) validate every edge; the web app imports the types only.
 */
import { z } from 'zod';
import type { Algorithm } from './detect.ts';

export const signalQuery = z
  .object({
    status: z.enum(['open', 'confirmed', 'dismissed', 'all']).default('all'),
    weeks: z.coerce.number().int().min(1).max(104).default(12),
  })
  .strict();
export const seriesQuery = z
  .object({
    disease: z.string().regex(/^[a-z0-9-]{1,41}$/),
    commune: z.coerce.number().int().min(0).default(0),
    weeks: z.coerce.number().int().min(4).max(104).default(26),
  })
  .strict();
export const decisionBody = z
  .object({
    decision: z.enum(['confirmed', 'dismissed']),
    note: z.string().trim().min(3, 'Cần ghi chú lý do (a note is required)').max(2000),
  })
  .strict();
export const aggregateQuery = z
  .object({
    weeks: z.coerce.number().int().min(1).max(52).default(8),
    province: z.coerce.number().int().positive().optional(),
  })
  .strict();
export const populationBody = z
  .object({
    rows: z
      .array(
        z
          .object({
            provinceCode: z.number().int().positive(),
            communeCode: z.number().int().min(0).default(0),
            year: z.number().int().min(2000).max(2100),
            population: z.number().int().positive(),
            source: z.string().min(3).max(300),
          })
          .strict(),
      )
      .min(1)
      .max(5000),
  })
  .strict();
export const authorityBody = z.object({ organizationId: z.string().regex(/^[A-Za-z0-9\-.]{1,64}$/), provinceCode: z.number().int().positive() }).strict();
export const signalId = z.coerce.number().int().positive();

export type SignalAlgorithm = Algorithm | 'group-a';

export interface SignalView {
  id: number;
  disease: { code: string; vi: string; en: string; group: 'A' | 'B' | 'C'; verified: boolean };
  place: { communeCode: number; name: string };
  week: string;
  weekLabel: string;
  algorithm: SignalAlgorithm;
  statistic: number;
  threshold: number;
  observed: number;
  expected: number;
  status: 'open' | 'confirmed' | 'dismissed';
  decidedBy: string | null;
  decidedAt: string | null;
  note: string | null;
  createdAt: string;
}

export interface SignalList {
  province: { code: number; name: string };
  listVersion: string;
  listVerified: boolean;
  signals: SignalView[];
}

export interface SeriesView {
  disease: { code: string; vi: string; en: string; group: 'A' | 'B' | 'C' };
  place: { provinceCode: number; communeCode: number; name: string };
  weeks: { week: string; label: string; cases: number; ratePer100k: number | null }[];
  population: { value: number; year: number; source: string } | null;
  signals: { week: string; algorithm: SignalAlgorithm; status: string }[];
}

export interface AggregateCell {
  disease: string;
  place: { code: number; name: string };
  week: string;
  /** null = suppressed (1–4 cases) for this viewer. */
  cases: number | null;
}
export interface AggregateReport {
  scope: 'national' | 'province';
  provinceCode: number | null;
  suppressed: boolean;
  weeks: string[];
  diseases: { code: string; vi: string; en: string; group: string }[];
  cells: AggregateCell[];
}

export interface DiseaseListInfo {
  inForce: { version: string; source: string; loadedAt: string | null; loadedBy: string | null; diseases: number; unverified: number };
  versions: { version: string; loadedAt: string; loadedBy: string; diseases: number }[];
}
