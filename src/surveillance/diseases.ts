/**
 * The notifiable-disease list: the bundled draft (data/surveillance/notifiable-diseases.json,
 * every entry unverified; source in that folder's README) until an administrator loads the
 * official one (a new version in surveillance_disease_list; the newest is in force). Matching of
 * ICD-10 codes (by prefix, dots ignored) and of LOINC lab codes to a disease. The list in force is
 * cached per process and read again at most once a minute (or at once after a load here).
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import type { DomainSql } from '../db/domain-sql.ts';

export const diseaseSchema = z
  .object({
    code: z.string().regex(/^[a-z0-9][a-z0-9-]{0,40}$/),
    vi: z.string().min(1).max(200),
    en: z.string().min(1).max(200),
    group: z.enum(['A', 'B', 'C']),
    icd10: z.array(z.string().regex(/^[A-Z]\d{2}(\.\d{1,2})?$/)).max(50),
    loinc: z
      .array(z.string().regex(/^\d{1,7}-\d$/))
      .max(50)
      .default([]),
    reportWithinHours: z
      .number()
      .int()
      .positive()
      .max(24 * 31)
      .nullable(),
    verified: z.boolean(),
    note: z.string().max(500).optional(),
  })
  .strict();
export type Disease = z.infer<typeof diseaseSchema>;

export const diseaseListSchema = z
  .object({
    version: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,60}$/),
    title: z.string().max(300).optional(),
    source: z.string().min(10).max(2000),
    licence: z.string().max(300).optional(),
    diseases: z.array(diseaseSchema).min(1).max(500),
  })
  .strict()
  .superRefine((l, ctx) => {
    const seen = new Set<string>();
    for (const [i, d] of l.diseases.entries()) {
      if (seen.has(d.code)) ctx.addIssue({ code: 'custom', path: ['diseases', i, 'code'], message: `trùng mã ${d.code} (duplicate code)` });
      seen.add(d.code);
      if (!d.icd10.length && !d.loinc.length) ctx.addIssue({ code: 'custom', path: ['diseases', i], message: 'cần ít nhất một mã ICD-10 hoặc LOINC' });
    }
    const owner = new Map<string, string>();
    for (const d of l.diseases)
      for (const c of d.icd10) {
        const k = norm(c);
        if (owner.has(k)) ctx.addIssue({ code: 'custom', path: ['diseases'], message: `mã ICD-10 ${c} thuộc hai bệnh (${owner.get(k)}, ${d.code})` });
        owner.set(k, d.code);
      }
  });
export type DiseaseList = z.infer<typeof diseaseListSchema>;

const norm = (code: string) => code.toUpperCase().replace(/\./g, '');

export class DiseaseMatcher {
  readonly byCode: Map<string, Disease>;
  private readonly prefixes: [string, Disease][];
  private readonly loinc: Map<string, Disease>;
  constructor(readonly list: DiseaseList) {
    this.byCode = new Map(list.diseases.map((d) => [d.code, d]));
    // Longest prefix first: A98.4 (Ebola) before a hypothetical A98.
    this.prefixes = list.diseases.flatMap((d) => d.icd10.map((c) => [norm(c), d] as [string, Disease])).sort((a, b) => b[0].length - a[0].length);
    this.loinc = new Map(list.diseases.flatMap((d) => d.loinc.map((c) => [c, d] as [string, Disease])));
  }
  icd10(code: string): Disease | undefined {
    const c = norm(code);
    return this.prefixes.find(([p]) => c.startsWith(p))?.[1];
  }
  lab(loincCode: string): Disease | undefined {
    return this.loinc.get(loincCode);
  }
}

const BUNDLED = new URL('../../data/surveillance/notifiable-diseases.json', import.meta.url);
let bundled: DiseaseMatcher | undefined;
export function bundledList(): DiseaseMatcher {
  bundled ??= new DiseaseMatcher(diseaseListSchema.parse(JSON.parse(readFileSync(BUNDLED, 'utf8'))));
  return bundled;
}

let cache: { matcher: DiseaseMatcher; at: number } | undefined;
const TTL_MS = 60_000;

/** The list in force (newest loaded version, else the bundled draft). */
export async function diseaseList(sql: DomainSql): Promise<DiseaseMatcher> {
  if (cache && Date.now() - cache.at < TTL_MS) return cache.matcher;
  const r = await sql.query<{ version: string; source: string; diseases: Disease[] }>(
    'SELECT version, source, diseases FROM surveillance_disease_list ORDER BY loaded_at DESC, version DESC LIMIT 1',
  );
  const row = r.rows[0];
  const matcher = row ? new DiseaseMatcher({ version: row.version, source: row.source, diseases: row.diseases }) : bundledList();
  cache = { matcher, at: Date.now() };
  return matcher;
}

export function forgetDiseaseList(): void {
  cache = undefined;
}
