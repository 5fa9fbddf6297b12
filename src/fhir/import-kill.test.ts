/**
 * `cauyte import` under SIGKILL: killed in the middle of an import (Synthea transaction bundles
 * and an NDJSON file made from one of them), the store holds exactly the files that were wholly
 * imported before the kill — every bundle wholly in or wholly out, no version or index row
 * without its resource — and the import printed progress (rate, ETA) while it ran.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Bundle } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { PgliteDb, type Db } from '../db/db.ts';
import { createTestDb, DB_KINDS } from '../testing/databases.ts';
import { TEST_SECRET } from '../testing/platform.ts';

const FIXTURES = new URL('../../test/fixtures/synthea-r4/', import.meta.url);
const CLI = new URL('../../bin/cauyte.js', import.meta.url).pathname;
const names = readdirSync(FIXTURES)
  .filter((f) => f.endsWith('.json'))
  .sort()
  .slice(0, 4);
const bundles = names.map((f) => JSON.parse(readFileSync(new URL(f, FIXTURES), 'utf8')) as Bundle);

/** A bundle as NDJSON: urn:uuid fullUrls become the resources' ids and references Type/id. */
function toNdjson(b: Bundle): string {
  const ids = new Map<string, string>();
  for (const e of b.entry!) ids.set(e.fullUrl!, `${e.resource!.resourceType}/${e.fullUrl!.replace('urn:uuid:', '')}`);
  return b
    .entry!.map((e) => {
      const text = JSON.stringify({ ...e.resource, id: e.fullUrl!.replace('urn:uuid:', '') }).replace(/"urn:uuid:[0-9a-f-]+"/g, (m) => {
        const to = ids.get(m.slice(1, -1));
        return to ? JSON.stringify(to) : m;
      });
      return text;
    })
    .join('\n');
}

/** Resources per type in the first k files. */
function countsOfFirst(k: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (const b of bundles.slice(0, k)) for (const e of b.entry!) out[e.resource!.resourceType] = (out[e.resource!.resourceType] ?? 0) + 1;
  return out;
}

async function storedCounts(db: Db): Promise<Record<string, number>> {
  const r = await db.query<{ resource_type: string; n: number }>('SELECT resource_type, count(*)::int AS n FROM resource GROUP BY resource_type');
  return Object.fromEntries(r.rows.map((x) => [x.resource_type, x.n]));
}

/** Runs `cauyte import` and SIGKILLs it once two files are reported imported (the third is then under way). */
function importAndKill(files: string[], env: NodeJS.ProcessEnv): Promise<{ stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'import', ...files], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if ((stdout.match(/Imported \d+ resources/g) ?? []).length >= 2) child.kill('SIGKILL');
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('exit', () => resolve({ stdout, stderr }));
  });
}

describe.each(DB_KINDS)('cauyte import killed mid-way on %s', (kind) => {
  it('leaves every file wholly in or wholly out, and showed progress', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cauyte-kill-'));
    // The second file is NDJSON (one transaction for the whole file), so both kinds are imported before the kill.
    const files = names.map((f, i) => {
      if (i !== 1) return new URL(f, FIXTURES).pathname;
      const path = join(dir, f.replace(/\.json$/, '.ndjson'));
      writeFileSync(path, toNdjson(bundles[i]));
      return path;
    });
    const t = kind === 'postgres' ? await createTestDb('postgres') : undefined;
    const env: NodeJS.ProcessEnv = { ...process.env, CAUYTE_SECRET_KEY: TEST_SECRET, CAUYTE_JANUS: 'off', LOG_LEVEL: 'silent' };
    if (t) env.DATABASE_URL = t.url;
    else {
      delete env.DATABASE_URL;
      env.CAUYTE_DATA_DIR = join(dir, 'data');
    }
    try {
      const { stdout, stderr } = await importAndKill(files, env);
      expect(stderr).toMatch(/\[2\/4\] [\d.]+ % · [\d,]+ resources · [\d,]+\/s · ETA \d+:\d\d/);
      const reported = (stdout.match(/Imported \d+ resources/g) ?? []).length;
      expect(reported).toBeGreaterThanOrEqual(2);
      const db = t ? t.db : await PgliteDb.open(join(dir, 'data', 'db'));
      try {
        const stored = await storedCounts(db);
        // The file being written at the kill may have committed just before it (its line not yet printed).
        const matches = [reported, reported + 1].filter((k) => JSON.stringify(sorted(stored)) === JSON.stringify(sorted(countsOfFirst(k))));
        expect(matches, `stored ${JSON.stringify(stored)} after ${reported} files reported`).toHaveLength(1);
        const orphans = await db.query<{ n: number }>(
          `SELECT (SELECT count(*) FROM resource_version v LEFT JOIN resource r ON r.rid = v.rid WHERE r.rid IS NULL)
                + (SELECT count(*) FROM idx_token x LEFT JOIN resource r ON r.rid = x.rid WHERE r.rid IS NULL)
                + (SELECT count(*) FROM idx_reference x LEFT JOIN resource r ON r.rid = x.rid WHERE r.rid IS NULL)
                + (SELECT count(*) FROM resource r LEFT JOIN resource_version v ON v.rid = r.rid WHERE v.rid IS NULL) AS n`,
        );
        expect(Number(orphans.rows[0].n)).toBe(0);
      } finally {
        if (!t) await db.close();
      }
    } finally {
      await t?.drop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

function sorted(counts: Record<string, number>): [string, number][] {
  return Object.entries(counts).sort(([a], [b]) => a.localeCompare(b));
}
