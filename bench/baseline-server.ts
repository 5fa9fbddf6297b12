/**
 * The baseline for "what do sign-in, policy, relationship checks and audit cost on a read":
 * the same HTTP server library and the same storage read as the platform's
 * `GET /fhir/R4/:type/:id`, with none of the access machinery. Benchmarks only — it lives in
 * bench/, not in the product, so the product has no unchecked mode.
 *
 * Started like the platform (environment: DATABASE_URL or CAUYTE_DATA_DIR, PORT, HOST); prints
 * "running at <url>" when ready.
 */
import Fastify from 'fastify';
import { openDatabase } from '../src/db/db.ts';
import { loadDefinitions } from '../src/fhir/definitions.ts';
import { SearchRegistry } from '../src/fhir/searchparams.ts';
import { FhirStorage } from '../src/fhir/storage.ts';

const port = Number(process.env.PORT ?? 3999);
const host = process.env.HOST ?? '127.0.0.1';
const db = await openDatabase({ databaseUrl: process.env.DATABASE_URL, dataDir: process.env.CAUYTE_DATA_DIR ?? './data' });
loadDefinitions();
const storage = new FhirStorage(db, await SearchRegistry.load(db));
const app = Fastify({ logger: false });
app.get('/fhir/R4/:type/:id', async (req, reply) => {
  const { type, id } = req.params as { type: string; id: string };
  const resource = await storage.read(type, id);
  return reply.type('application/fhir+json; charset=utf-8').header('etag', `W/"${resource.meta?.versionId}"`).send(resource);
});
const address = await app.listen({ port, host });
console.log(`baseline running at ${address}`);
const stop = async () => {
  await app.close();
  await db.close();
  process.exit(0);
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
