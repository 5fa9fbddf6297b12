/**
 * HTTP for devices (registration, credentials, quarantine, counters, HTTP ingest), alerts,
 * targets and chronic-disease registers.
 *
 * Rules: every route declares its access rule (devices.manage, monitoring.view, or public for the
 * device's own HTTP ingest, which authenticates the device by its secret); bodies are parsed with
 * the schemas of contract.ts and answers have its types; the work itself is the service's, which
 * reaches the record only through the repository.
 */
import type { Bundle, Observation } from '@medplum/fhirtypes';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { InputError, parseInput as parse } from '../http/input.ts';
import {
  DEVICE_TYPES,
  readingsBody,
  registerDeviceBody,
  targetsBody,
  type AlertItem,
  type DeviceListItem,
  type DeviceStats,
  type FleetView,
  type IngestReply,
  type ProgrammeResponse,
  type QuarantineItem,
  type DeviceProvisioning,
  type RegisterDeviceResponse,
  type RotateResponse,
} from './contract.ts';
import { chronicRegister } from './programmes.ts';
import { readingFromObservation } from './readings.ts';
import type { DeviceService } from './service.ts';

type P<T = { id: string }> = FastifyRequest<{ Params: T }>;

/** A FHIR Observation or batch Bundle from a device → device payloads (one per Observation). */
function fhirToPayloads(body: { resourceType?: unknown }): string[] | undefined {
  if (body.resourceType !== 'Observation' && body.resourceType !== 'Bundle') return undefined;
  const observations = body.resourceType === 'Bundle' ? ((body as Bundle).entry ?? []).map((e) => e.resource as Observation) : [body as Observation];
  return observations.map((o, i) => {
    const reading = o?.resourceType === 'Observation' ? readingFromObservation(o) : undefined;
    const patient = o?.subject?.reference?.startsWith('Patient/') ? o.subject.reference.slice(8) : undefined;
    return JSON.stringify({
      msgId: o?.identifier?.[0]?.value ?? o?.id ?? `http-${Date.now()}-${i}`,
      time: o?.effectiveDateTime ?? '',
      ...(patient ? { patient } : {}),
      readings: [reading ?? { type: 'unknown' }],
    });
  });
}

export async function deviceRoutes(app: FastifyInstance, opts: { devices: DeviceService }): Promise<void> {
  const { devices } = opts;
  const manage = { config: { access: { domain: 'devices.manage' as const } } };
  const monitor = { config: { access: { domain: 'monitoring.view' as const } } };

  app.get('/api/devices/types', { config: { access: 'authenticated' } }, async () => DEVICE_TYPES);
  app.get('/api/devices', manage, async (req): Promise<DeviceListItem[]> => devices.list(req.ctx));
  // What the device is set up with: the broker it reaches, its identity and secret, its topics.
  const provisioning = (deviceId: string, password: string): DeviceProvisioning => {
    const { MQTT_URL, CAUYTE_MQTT_PORT } = app.config;
    const host = new URL(app.config.baseUrl).hostname;
    return {
      broker: MQTT_URL ?? (CAUYTE_MQTT_PORT ? `mqtt://${host}:${CAUYTE_MQTT_PORT}` : undefined),
      clientId: deviceId,
      username: deviceId,
      password,
      readingsTopic: `cauyte/devices/${deviceId}/readings`,
      repliesTopic: `cauyte/devices/${deviceId}/replies`,
      httpUrl: `${app.config.baseUrl}/api/devices/${deviceId}/readings`,
    };
  };
  app.post('/api/devices', manage, async (req, reply) => {
    const r = await devices.register(req.ctx, parse(registerDeviceBody, req.body));
    // The secret is shown once: only its hash is kept.
    return reply
      .code(201)
      .header('cache-control', 'no-store')
      .send({ device: r.device, token: r.token, provisioning: provisioning(r.device.id!, r.token) } satisfies RegisterDeviceResponse);
  });
  app.post('/api/devices/:id/rotate', manage, async (req: P, reply) => {
    const token = await devices.rotate(req.ctx, req.params.id);
    return reply.header('cache-control', 'no-store').send({ token, provisioning: provisioning(req.params.id, token) } satisfies RotateResponse);
  });
  app.post('/api/devices/:id/revoke', manage, async (req: P) => {
    await devices.revoke(req.ctx, req.params.id);
    return { status: 'revoked' as const };
  });
  // The facility's fleet (administrators' screen) and disabling one of its devices: src/devices/fleet.ts.
  app.get('/api/devices/fleet', manage, async (req): Promise<FleetView> => devices.fleet(req.ctx));
  app.post('/api/devices/:id/disable', manage, async (req: P) => {
    await devices.disable(req.ctx, req.params.id);
    return { status: 'revoked' as const };
  });
  app.get('/api/devices/quarantine', manage, async (req): Promise<QuarantineItem[]> => devices.quarantine(req.ctx));
  // The caller's facility's counters only (src/devices/stats.ts).
  app.get('/api/devices/stats', manage, async (req): Promise<DeviceStats> => devices.stats(req.ctx));

  // HTTP ingest for devices: the device's own secret in X-Device-Token; our JSON payload, a FHIR
  // Observation, or a batch Bundle of Observations. The body is limited like an MQTT payload.
  app.post(
    '/api/devices/:id/readings',
    { bodyLimit: devices.maxPayloadBytes, config: { access: 'public', rateLimit: { max: 600, timeWindow: '1 minute' } } },
    async (req: P, reply) => {
      const token = req.headers['x-device-token'];
      if (typeof token !== 'string' || !(await devices.authenticate(req.params.id, token))) {
        return reply
          .code(401)
          .type('application/problem+json')
          .send({ type: 'about:blank', status: 401, title: 'Thiết bị chưa đăng ký, đã bị thu hồi hoặc sai mã (unknown or revoked device, or wrong token)' });
      }
      const body = parse(readingsBody, req.body);
      const payloads = fhirToPayloads(body) ?? [JSON.stringify(body)];
      const replies: IngestReply[] = await Promise.all(payloads.map((p) => devices.ingest(req.params.id, p, false)));
      const status = replies.every((r) => r.status === 'rejected' || r.status === 'refused') ? 422 : replies.some((r) => r.status === 'accepted') ? 201 : 200;
      return reply.code(status).send(replies.length === 1 ? replies[0] : replies);
    },
  );

  app.get('/api/alerts', monitor, async (req): Promise<AlertItem[]> => devices.alerts(req.ctx, (req.query as { all?: string }).all !== 'true'));
  app.post('/api/alerts/:id/acknowledge', monitor, async (req: P) => {
    const n = Number(req.params.id);
    if (!Number.isInteger(n) || n < 1) throw new InputError('id must be an alert number');
    await devices.acknowledge(req.ctx, n);
    return { status: 'acknowledged' as const };
  });
  app.put('/api/patients/:id/targets', { config: { access: { domain: 'monitoring.manage' as const } } }, async (req: P) =>
    devices.setTargets(req.ctx, req.params.id, parse(targetsBody, req.body)),
  );
  app.get('/api/programmes/:kind', monitor, async (req: FastifyRequest<{ Params: { kind: string } }>): Promise<ProgrammeResponse> => {
    const kind = req.params.kind;
    if (kind !== 'hypertension' && kind !== 'diabetes') throw new InputError('kind must be hypertension or diabetes');
    return chronicRegister(app.store, req.ctx, kind);
  });
}
