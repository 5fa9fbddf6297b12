/**
 * The baseline for "what do sign-in, policy, relationship checks and audit cost on a read": the
 * whole platform, started like `cauyte serve`, plus one bench-only route that answers the same
 * read as `GET /fhir/R4/:type/:id` straight from the storage — no credential, no policy, no
 * relationship check, no audit row. Both reads are served by this one process, so a benchmark can
 * alternate them round by round. The extra route exists only in this bench process: the product
 * has no unchecked mode.
 *
 * Environment as for the platform (DATABASE_URL or CAUYTE_DATA_DIR, PORT, HOST, CAUYTE_SECRET_KEY);
 * prints "running at <url>" when ready.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { loadConfig } from '../src/config.ts';
import { openDatabase } from '../src/db/db.ts';
import { FhirService } from '../src/fhir/service.ts';
import { buildPlatform } from '../src/server.ts';

const config = loadConfig();
const db = await openDatabase({ databaseUrl: config.DATABASE_URL, dataDir: config.dataDir });
const { storage } = await FhirService.prepare(db);

async function uncheckedRead(app: FastifyInstance): Promise<void> {
  app.get(
    '/bench/unchecked/:type/:id',
    { config: { access: 'public' } },
    async (req: FastifyRequest<{ Params: { type: string; id: string } }>, reply: FastifyReply) => {
      const resource = await storage.read(req.params.type, req.params.id);
      if (resource.meta?.lastUpdated) reply.header('last-modified', new Date(resource.meta.lastUpdated).toUTCString());
      return reply.type('application/fhir+json; charset=utf-8').header('etag', `W/"${resource.meta?.versionId}"`).send(resource);
    },
  );
}

const platform = await buildPlatform(config, { db, plugins: [{ plugin: uncheckedRead }] });
const address = await platform.app.listen({ port: config.PORT, host: config.HOST });
console.log(`baseline running at ${address}`);
const stop = async () => {
  await platform.close();
  await db.close();
  process.exit(0);
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
