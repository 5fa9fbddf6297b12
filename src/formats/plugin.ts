/**
 * The national exchange formats at the platform's edge, as a plugin: insurance claims (QĐ 130
 * XML, signed, sent through a queue to the BHXH gateway) and e-prescriptions to the national
 * e-prescription system (queued as they are issued; CAUYTE_EPRESCRIPTION_GATEWAY_URL); FHIR Bulk
 * Data export for SMART backend-services clients (bulk/). Facility secrets come from
 * CAUYTE_FACILITY_CREDENTIALS; the gateway from CAUYTE_BHXH_GATEWAY_URL (unset: claims are built
 * and signed, not sent).
 * Rules: builds on the visits domain (the visits it claims for); the queue runs on a timer and
 * stops with the app.
 */
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { ClaimService } from './claims.ts';
import { CredentialStore } from './credentials.ts';
import { BhxhGateway } from './gateway/bhxh.ts';
import { ClaimQueue } from './gateway/queue.ts';
import { EPrescriptionGateway } from './eprescription/gateway.ts';
import { eprescriptionOnWrite, EPrescriptionQueue } from './eprescription/queue.ts';
import { BulkExports } from './bulk/export.ts';
import { bulkRoutes } from './bulk/routes.ts';
import { formatsRoutes } from './routes.ts';
import { emrRoutes } from './emr/routes.ts';

declare module 'fastify' {
  interface FastifyInstance {
    claims: ClaimService;
    claimQueue: ClaimQueue;
    eprescriptions: EPrescriptionQueue;
  }
}

async function formatsPlugin(app: FastifyInstance): Promise<void> {
  const credentials = CredentialStore.fromFile(app.config.CAUYTE_FACILITY_CREDENTIALS);
  const claims = new ClaimService(app.store, credentials);
  const gateway = app.config.CAUYTE_BHXH_GATEWAY_URL ? new BhxhGateway(app.config.CAUYTE_BHXH_GATEWAY_URL) : undefined;
  const queue = new ClaimQueue(app.store, gateway, credentials);
  const rxGateway = app.config.CAUYTE_EPRESCRIPTION_GATEWAY_URL ? new EPrescriptionGateway(app.config.CAUYTE_EPRESCRIPTION_GATEWAY_URL) : undefined;
  const eprescriptions = new EPrescriptionQueue(app.store, rxGateway, credentials);
  // Every issued e-prescription is queued in the transaction that writes it.
  app.store.onWrite('formats', eprescriptionOnWrite);
  app.decorate('claims', claims);
  app.decorate('claimQueue', queue);
  app.decorate('eprescriptions', eprescriptions);
  await app.register(formatsRoutes, { claims, eprescriptions });
  await app.register(emrRoutes);
  const fhirBase = `${app.config.baseUrl}/fhir/R4`;
  await app.register(bulkRoutes, { bulk: new BulkExports(app.store, fhirBase), fhirBase, store: app.store });
  const queues = [...(gateway ? [queue] : []), ...(rxGateway ? [eprescriptions] : [])];
  if (queues.length) {
    const timer = setInterval(() => queues.forEach((q) => void q.runOnce().catch(() => undefined)), app.config.CAUYTE_GATEWAY_QUEUE_SECONDS * 1000);
    timer.unref();
    app.addHook('onClose', async () => {
      clearInterval(timer);
      await Promise.all(queues.map((q) => q.runOnce(new Date(0)).catch(() => undefined))); // let a running pass finish
    });
  }
}

export default fp(formatsPlugin, { name: 'formats', dependencies: ['fhir', 'visits'] });
