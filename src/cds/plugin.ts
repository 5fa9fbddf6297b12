/**
 * Decision support under the doctor's control, as a plugin: the registry of AI/CDS services, the
 * CDS Hooks client, what clinicians do with cards, and — unless CAUYTE_CDS_BUNDLED=off — the
 * bundled CDS service started as its own process (supervisor.ts). Decision support owns the
 * Provenance records it writes (tagged CDS_TAG): a plain FHIR write cannot forge or change one.
 */
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { CdsClient } from './client.ts';
import { Registry } from './registry.ts';
import { cdsRoutes } from './routes.ts';
import { isCdsProvenance, Suggestions } from './suggestions.ts';
import { BundledSupervisor } from './supervisor.ts';
import { CdsClientKey } from './client-key.ts';

export interface CdsServices {
  registry: Registry;
  client: CdsClient;
  suggestions: Suggestions;
  /** Where the bundled service listens (undefined when off or not running). */
  bundledUrl(): string | undefined;
  /** Resolves once the bundled service has started (or failed to): its URL, or undefined. */
  bundledReady(): Promise<string | undefined>;
  /** The platform as a CDS Client: the key its requests to CDS services are signed with (public half and issuer). */
  clientKey: CdsClientKey;
}

declare module 'fastify' {
  interface FastifyInstance {
    cds: CdsServices;
  }
}

async function cdsPlugin(app: FastifyInstance): Promise<void> {
  const clientKey = await CdsClientKey.create(app.store.fhirBase.replace(/\/fhir\/R4$/, ''));
  const supervisor = app.config.CAUYTE_CDS_BUNDLED === 'auto' ? new BundledSupervisor({ jwk: clientKey.publicJwk, issuer: clientKey.issuer }) : undefined;
  // Started beside the platform, not before it: a slow start never holds the platform up (calls made
  // meanwhile find it not running: dropped and counted, like any unavailable service).
  const starting: Promise<string | undefined> = supervisor
    ? supervisor.start().catch((err: Error) => {
        app.log.warn({ err: err.message }, 'the bundled CDS service did not start; decision support goes on without it');
        return undefined;
      })
    : Promise.resolve(undefined);
  const bundledUrl = () => supervisor?.url;
  const registry = new Registry(app.store);
  const client = new CdsClient(app.store, registry, bundledUrl, clientKey);
  const suggestions = new Suggestions(app.store, registry, client);
  app.store.owns({
    domain: 'cds',
    label: 'Nguồn gốc gợi ý AI/CDS (Provenance)',
    route: 'POST /api/cds/cards/{id}/accept, POST /api/cds/drafts/{type}/{id}/confirm',
    owns: isCdsProvenance,
  });
  app.decorate('cds', { registry, client, suggestions, bundledUrl, bundledReady: () => starting, clientKey });
  await app.register(cdsRoutes, { registry, client, suggestions });
  app.addHook('onClose', async () => {
    await starting;
    await supervisor?.stop();
  });
}

export default fp(cdsPlugin, { name: 'cds', dependencies: ['fhir'] });
