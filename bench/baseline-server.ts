/**
 * The baselines the store benchmarks compare against, served by one process next to the platform
 * so a benchmark can alternate them round by round with the same HTTP client:
 *
 *   - the platform itself (started like `cauyte serve`) plus one bench-only route,
 *     `GET /api/bench/unchecked/:type/:id`, that answers the same read as `GET /fhir/R4/:type/:id`
 *     straight from the storage — no credential, no policy, no relationship check, no audit row;
 *     under /api so that its answer is compressed as the FHIR read's is (src/http/compress.ts
 *     takes reads under /api and /fhir): the ratio is the access machinery's cost, not gzip's
 *     (until 2026-12-02 it was under /bench, sent uncompressed, and the ratio charged the checked
 *     side with compressing and the client with decompressing: PostgreSQL 0.41 vs 0.66 fair);
 *   - a bare Fastify app on a second port (no plugins, no hooks) with `POST /insert`: one
 *     single-row INSERT of the posted JSON into a bare jsonb table (the create baseline), and
 *     `POST /copy`: the posted NDJSON COPY'd into a bare jsonb table, timed inside this process
 *     (the import baseline; bench/lib.ts copyBaseline), and `POST /import`: the posted file paths
 *     imported the way `cauyte import` does (src/fhir/import.ts ImportPipeline, one kept open so
 *     its worker thread starts once), timed inside this process like the COPY.
 *
 * These routes exist only in this bench process: the product has no unchecked mode.
 * Environment as for the platform (DATABASE_URL or CAUYTE_DATA_DIR, PORT, HOST, CAUYTE_SECRET_KEY;
 * BENCH_BARE_PORT for the bare app); prints "bare at <url>" then "running at <url>" when ready.
 */
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { loadConfig } from '../src/config.ts';
import { openDatabase } from '../src/db/db.ts';
import { FhirService } from '../src/fhir/service.ts';
import { buildPlatform } from '../src/server.ts';
import { ImportPipeline } from '../src/fhir/import.ts';
import { setCopyMinimum } from '../src/fhir/storage-copy.ts';
import { copyBaseline } from './lib.ts';

const config = loadConfig();
const db = await openDatabase({ databaseUrl: config.DATABASE_URL, dataDir: config.dataDir });
const { storage } = await FhirService.prepare(db);

async function uncheckedRead(app: FastifyInstance): Promise<void> {
  app.get(
    '/api/bench/unchecked/:type/:id',
    { config: { access: 'public' } },
    async (req: FastifyRequest<{ Params: { type: string; id: string } }>, reply: FastifyReply) => {
      const resource = await storage.read(req.params.type, req.params.id);
      if (resource.meta?.lastUpdated) reply.header('last-modified', new Date(resource.meta.lastUpdated).toUTCString());
      return reply.type('application/fhir+json; charset=utf-8').header('etag', `W/"${resource.meta?.versionId}"`).send(resource);
    },
  );
}

const platform = await buildPlatform(config, { db, plugins: [{ plugin: uncheckedRead }] });

const bare = Fastify({ logger: false, bodyLimit: 64 * 1024 * 1024 });
bare.addContentTypeParser('application/fhir+json', { parseAs: 'string' }, bare.getDefaultJsonParser('ignore', 'ignore'));
bare.addContentTypeParser('application/x-ndjson', { parseAs: 'string' }, (_req, body, done) => done(null, body));
await db.exec('CREATE TABLE IF NOT EXISTS bench_insert (id bigserial PRIMARY KEY, content jsonb NOT NULL)');
bare.post('/insert', async (req, reply) => {
  await db.query('INSERT INTO bench_insert (content) VALUES ($1::jsonb)', [JSON.stringify(req.body)]);
  return reply.code(201).send();
});
bare.post('/copy', async (req) => {
  const docs = (req.body as string).split('\n').filter((l) => l.length > 0);
  return { rowsPerSecond: await copyBaseline(db, docs) };
});
let pipeline: ImportPipeline | undefined;
const plainPipeline = new ImportPipeline(platform.store, 0);
// ?plain=1: the same import without COPY and without the worker thread (INSERT statements, as before the bulk path).
bare.post('/import', async (req: FastifyRequest<{ Querystring: { plain?: string } }>) => {
  const plain = req.query.plain === '1';
  pipeline ??= new ImportPipeline(platform.store);
  if (plain) setCopyMinimum(Infinity);
  try {
    const t0 = performance.now();
    const done = await (plain ? plainPipeline : pipeline).run(req.body as string[]);
    const resources = done.reduce((n, s) => n + s.resources, 0);
    return { resourcesPerSecond: resources / ((performance.now() - t0) / 1000), preparedAhead: done.filter((s) => s.preparedAhead).length };
  } finally {
    setCopyMinimum(undefined);
  }
});
const bareAddress = await bare.listen({ port: Number(process.env.BENCH_BARE_PORT ?? 0), host: config.HOST });
console.log(`bare at ${bareAddress}`);
const address = await platform.app.listen({ port: config.PORT, host: config.HOST });
console.log(`baseline running at ${address}`);
const stop = async () => {
  await bare.close();
  await pipeline?.close();
  await platform.close();
  await db.close();
  process.exit(0);
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
