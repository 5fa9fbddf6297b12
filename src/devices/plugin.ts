/**
 * Devices and home monitoring as a plugin: the ingest service, the embedded MQTT broker (or
 * ingest from an external broker with MQTT_URL), alert escalation, what the workflow owns
 * (alert Flags, monitoring targets), the routes, and an orderly stop (broker first, then the
 * ingest queue drains).
 */
import fp from 'fastify-plugin';
import type { FastifyInstance } from 'fastify';
import { EmbeddedBroker, ExternalIngest } from './broker.ts';
import { registerDeviceRules } from './rules.ts';
import { deviceRoutes } from './routes.ts';
import { DeviceService } from './service.ts';

declare module 'fastify' {
  interface FastifyInstance {
    devices: DeviceService;
    /** Where devices connect (embedded broker), when it runs. */
    mqttPort?: number;
  }
}

async function devicesPlugin(app: FastifyInstance, opts: { mqttPort?: number }): Promise<void> {
  const { config } = app;
  const devices = new DeviceService(app.store, app.bus, {
    escalateAfterMinutes: config.CAUYTE_ALERT_ESCALATE_MINUTES,
    maxPayloadBytes: config.CAUYTE_MQTT_MAX_PAYLOAD_BYTES,
  });
  registerDeviceRules(app.store);
  // CAUYTE_MQTT_PORT=0 turns the embedded broker off; opts.mqttPort 0 (tests) means any free port.
  const embedded = !config.MQTT_URL && config.CAUYTE_MQTT_PORT !== 0 ? new EmbeddedBroker(devices) : undefined;
  const external = config.MQTT_URL ? new ExternalIngest(devices, config.MQTT_URL, 4, config.CAUYTE_NODE_NAME) : undefined;
  app.decorate('devices', devices);
  app.decorate('mqttPort', embedded ? await embedded.start(opts.mqttPort ?? config.CAUYTE_MQTT_PORT, config.HOST) : undefined);
  if (external) await external.start();
  const escalation = setInterval(() => void devices.escalate().catch(() => undefined), 30_000);
  escalation.unref();
  app.addHook('onClose', async () => {
    clearInterval(escalation);
    await embedded?.stop();
    await external?.stop();
    await devices.drain();
  });
  await app.register(deviceRoutes, { devices });
}

export default fp(devicesPlugin, { name: 'devices', dependencies: ['events', 'fhir'] });
