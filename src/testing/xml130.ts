/**
 * Reading insurance XML back as a receiver would, for tests: fast-xml-parser, every column of a
 * table checked against the reference's rules (written out again here, not taken from
 * validate.ts), and the signature checked by xmlsec1 with the facility's certificate.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { expect } from 'vitest';
import type { TableSpec } from '../formats/xml130/spec.ts';
import type { TestCertificate } from './certificates.ts';

export const parser = new XMLParser({ parseTagValue: false, ignoreAttributes: false, isArray: (name) => ['HOSO', 'FILEHOSO'].includes(name) });

/** The reference's rules, written out again here (not taken from validate.ts). */
export function checkTable(spec: TableSpec, doc: Record<string, unknown>): Record<string, string>[] {
  const root = doc[spec.root] as Record<string, unknown>;
  expect(root, spec.root).toBeTruthy();
  const rows = (spec.list ? [(root[spec.list] as Record<string, unknown>)[spec.row!]].flat() : [root]) as Record<string, string>[];
  for (const row of rows) {
    const names = Object.keys(row).filter((k) => k !== 'CHUKYDONVI');
    expect(names, `${spec.kind} column order`).toEqual(spec.columns.map((c) => c.name));
    for (const c of spec.columns) {
      const v = String(row[c.name] ?? '');
      const at = `${spec.kind}.${c.name}=${v}`;
      if (c.req === 'x' && c.name !== 'MAHUYEN_CU_TRU') expect(v, at).not.toBe('');
      if (!v) continue;
      if (c.type === 'N') expect(v, at).toMatch(/^-?\d+(\.\d{1,3})?$/);
      if (c.max) expect(c.type === 'N' ? v.replace(/[.-]/g, '').length : [...v].length, at).toBeLessThanOrEqual(c.max);
      if (c.format === 'T') expect(v, at).toMatch(/^(19|20)\d{2}(0\d|1[0-2])([0-2]\d|3[01])([01]\d|2[0-3])[0-5]\d$/);
      if (c.format === 'D') expect(v, at).toMatch(/^(19|20)\d{2}(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])$/);
    }
  }
  return rows;
}

export function xmlsecVerifies(xml: string, cert: TestCertificate, name: string): boolean {
  const file = join(cert.dir, name);
  writeFileSync(file, xml);
  try {
    execFileSync('xmlsec1', ['--verify', '--pubkey-cert-pem', cert.certPath, file], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}
