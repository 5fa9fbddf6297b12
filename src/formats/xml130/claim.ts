/**
 * One visit's insurance claim from its facts: the rows, every problem with them, and — only when
 * there is none — the signed check-in document and the signed GIAMDINHHS envelope.
 *
 * Rules: pure apart from the signature; a visit with problems is never signed or sent half-filled:
 * its problems are the answer (naming table, row and column).
 */
import type { ClaimFacts } from './facts.ts';
import { checkInDocument, envelope } from './envelope.ts';
import { claimRows, type ClaimRows } from './rows.ts';
import { signDocument, type FacilityKey } from './sign.ts';
import { TABLES } from './spec.ts';
import { validateRows, type Problem } from './validate.ts';

export interface BuiltClaim {
  visitKey: string;
  facilityCode: string;
  rows: ClaimRows;
  problems: Problem[];
  /** Signed documents, only when there are no problems. */
  signed?: { checkIn: string; envelope: string };
}

export function claimProblems(rows: ClaimRows): Problem[] {
  return (['XML0', 'XML1', 'XML2', 'XML3', 'XML13', 'XML14'] as const).flatMap((k) => validateRows(TABLES[k], rows[k], rows.waived));
}

export function buildClaim(f: ClaimFacts, key: FacilityKey | undefined, createdAt = new Date().toISOString()): BuiltClaim {
  const rows = claimRows(f);
  const problems = [...claimProblems(rows), ...(f.gaps ?? [])];
  const facilityCode = f.facility.code ?? '';
  if (!key) problems.push({ table: 'CHUKYDONVI', row: 0, column: 'CHUKYDONVI', problem: 'missing', detail: 'no certificate configured for this facility' });
  if (problems.length || !key) return { visitKey: f.visitKey, facilityCode, rows, problems };
  return {
    visitKey: f.visitKey,
    facilityCode,
    rows,
    problems,
    signed: { checkIn: signDocument(checkInDocument(rows.XML0), key), envelope: signDocument(envelope(facilityCode, [rows], createdAt), key) },
  };
}
