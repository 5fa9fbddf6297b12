/**
 * National formats: insurance XML per visit on one core — the tables built from a visit's facts,
 * every column validated, the check-in and the GIAMDINHHS envelope written and both signed
 * (RSA-2048, SHA-256, xml-crypto) — next to the same work without signing, in interleaved rounds
 * of the same run (median and spread). Visits differ only in their key, so nothing is cached.
 */
import { makeFacilityCertificate } from '../src/testing/certificates.ts';
import { buildClaim } from '../src/formats/xml130/claim.ts';
import { FACTS } from '../src/formats/xml130/fixture.ts';
import { bulkExportOnce, countLines } from './bulk-client.ts';

export interface FormatsResult {
  signedPerSecond: number[];
  unsignedPerSecond: number[];
  bytes: number;
}

export async function benchFormats(opts: { rounds: number; visits: number; log: (m: string) => void }): Promise<FormatsResult> {
  const cert = makeFacilityCertificate();
  const key = { key: cert.key, cert: cert.cert };
  const facts = (i: number) => ({ ...FACTS, visitKey: `${FACTS.visitKey.slice(0, 24)}${String(i).padStart(12, '0')}` });
  // Warm-up (JIT, first signature).
  for (let i = 0; i < 50; i++) buildClaim(facts(i), key);
  const signedPerSecond: number[] = [];
  const unsignedPerSecond: number[] = [];
  let bytes = 0;
  for (let r = 0; r < opts.rounds; r++) {
    let t = performance.now();
    for (let i = 0; i < opts.visits; i++) {
      const c = buildClaim(facts(i), key);
      if (i === 0) bytes = c.signed!.envelope.length + c.signed!.checkIn.length;
    }
    signedPerSecond.push(opts.visits / ((performance.now() - t) / 1000));
    t = performance.now();
    for (let i = 0; i < opts.visits; i++) buildClaim(facts(i), undefined);
    unsignedPerSecond.push(opts.visits / ((performance.now() - t) / 1000));
    opts.log(`formats round ${r + 1}: ${signedPerSecond.at(-1)!.toFixed(0)} signed visits/s, ${unsignedPerSecond.at(-1)!.toFixed(0)} unsigned`);
  }
  return { signedPerSecond, unsignedPerSecond, bytes };
}

export interface BulkResult {
  resources: number;
  exportPerSecond: number[];
  copyPerSecond: number[];
}

/**
 * FHIR Bulk export of a demo database on PostgreSQL (kick-off, poll, download every NDJSON file
 * over HTTP with a system/*.read token), against a raw `COPY (SELECT content …) TO STDOUT` of the
 * same current rows in the same run, rounds interleaved after one unmeasured round of each; both
 * sides count the lines they receive the same way and must count the same rows.
 */
export async function benchBulk(opts: {
  kind?: 'postgres' | 'pglite';
  patients: number;
  rounds: number;
  /** Files downloaded at a time (1: one after the other). */
  parallel?: number;
  log: (m: string) => void;
}): Promise<BulkResult> {
  const kind = opts.kind ?? 'postgres';
  const { startTestPlatform } = await import('../src/testing/platform.ts');
  const { seedDemo } = await import('../src/seed/demo.ts');
  const p = await startTestPlatform(kind, { CAUYTE_RATE_LIMIT: '100000000' }, undefined, { domains: ['family', 'consult', 'visits', 'formats'] });
  try {
    const base = await p.listen();
    await seedDemo(p.store, opts.patients);
    const token = await p.tokenFor('integration', { scope: 'system/*.read' });
    const client = { base, token, parallel: opts.parallel ?? 1 };
    const exportOnce = () => bulkExportOnce(client);
    const rawSql =
      "SELECT v.content FROM resource r JOIN resource_version v ON v.rid = r.rid AND v.version_id = r.version_id WHERE NOT r.deleted AND r.resource_type <> 'AuditEvent'";
    const copyOnce =
      kind === 'pglite'
        ? () => copyPglite(p.db as import('../src/db/db.ts').PgliteDb, rawSql)
        : () => copyPostgres(p.db as import('../src/db/db.ts').PostgresDb, rawSql);
    // One unmeasured round of each side first (JIT, PGlite's WebAssembly, caches), then the measured rounds.
    await exportOnce();
    await copyOnce();
    const exportPerSecond: number[] = [];
    const copyPerSecond: number[] = [];
    let resources = 0;
    for (let r = 0; r < opts.rounds; r++) {
      let t = performance.now();
      resources = await exportOnce();
      exportPerSecond.push(resources / ((performance.now() - t) / 1000));
      t = performance.now();
      const copied = await copyOnce();
      if (copied !== resources) throw new Error(`export gave ${resources} resources, the raw COPY ${copied} rows`);
      copyPerSecond.push(copied / ((performance.now() - t) / 1000));
      opts.log(
        `bulk round ${r + 1}: export ${resources} resources at ${exportPerSecond.at(-1)!.toFixed(0)}/s, COPY ${copied} rows at ${copyPerSecond.at(-1)!.toFixed(0)}/s`,
      );
    }
    return { resources, exportPerSecond, copyPerSecond };
  } finally {
    await p.close();
  }
}

/** The raw side on PostgreSQL: `COPY (…) TO STDOUT`, lines counted as they arrive. */
async function copyPostgres(db: import('../src/db/db.ts').PostgresDb, sql: string): Promise<number> {
  const { to } = await import('pg-copy-streams');
  const client = await db.pool.connect();
  try {
    let lines = 0;
    await new Promise<void>((resolve, reject) => {
      const stream = client.query(to(`COPY (${sql}) TO STDOUT`));
      stream.on('data', (chunk: Buffer) => void (lines += countLines(chunk)));
      stream.on('end', () => resolve());
      stream.on('error', reject);
    });
    return lines;
  } finally {
    client.release();
  }
}

/** The raw side on PGlite: `COPY (…) TO '/dev/blob'`, lines counted in the blob. */
async function copyPglite(db: import('../src/db/db.ts').PgliteDb, sql: string): Promise<number> {
  const r = await db.pglite.query(`COPY (${sql}) TO '/dev/blob'`);
  return countLines(new Uint8Array(await r.blob!.arrayBuffer()));
}
