/** HTTP for devices (registration, credentials, HTTP ingest), alerts, targets and chronic-disease registers. */
import type { Bundle, Observation } from '@medplum/fhirtypes';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { InputError, parseInput as parse } from '../http/input.ts';
import type { Db } from '../db/db.ts';
import type { FhirService } from '../fhir/service.ts';
import { DeviceService, DEVICE_TYPES } from './service.ts';
import { chronicRegister } from './programmes.ts';

type P<T = { id: string }> = FastifyRequest<{ Params: T }>;

const id = z.string().regex(/^[A-Za-z0-9\-.]{1,64}$/, 'must be a resource id');

export async function deviceRoutes(app: FastifyInstance, opts: { devices: DeviceService; fhir: FhirService; db: Db }): Promise<void> {
  const { devices, fhir, db } = opts;
  const manage = { config: { access: { domain: 'devices.manage' as const } } };
  const monitor = { config: { access: { domain: 'monitoring.view' as const } } };

  app.get('/api/devices/types', { config: { access: 'authenticated' } }, async () => DEVICE_TYPES);
  app.get('/api/devices', manage, async (req) => devices.list(req.ctx));
  app.post('/api/devices', manage, async (req, reply) => {
    const body = parse(z.object({ type: z.string(), name: z.string().trim().min(1).max(200), serial: z.string().trim().min(1).max(100), patientId: id.optional(), organizationId: id.optional() }).strict(), req.body);
    const r = await devices.register(req.ctx, body);
    // The token is shown once: only its hash is kept.
    return reply.code(201).header('cache-control', 'no-store').send({ device: r.device, token: r.token });
  });
  app.post('/api/devices/:id/rotate', manage, async (req: P, reply) => reply.header('cache-control', 'no-store').send({ token: await devices.rotate(req.ctx, req.params.id) }));
  app.post('/api/devices/:id/revoke', manage, async (req: P) => {
    await devices.revoke(req.ctx, req.params.id);
    return { status: 'revoked' };
  });
  app.get('/api/devices/quarantine', manage, async (req) => {
    const r = await db.query('SELECT id, device_id, message_id, received_at, reasons FROM device_quarantine ORDER BY id DESC LIMIT 200');
    const mine = new Set((await devices.list(req.ctx)).map((d) => d.id));
    return r.rows.filter((x) => mine.has(String((x as { device_id: string }).device_id)));
  });

  // HTTP ingest for devices: the device's own token in X-Device-Token; our JSON payload, a FHIR
  // Observation, or a batch Bundle of Observations.
  app.post('/api/devices/:id/readings', { config: { access: 'public', rateLimit: { max: 600, timeWindow: '1 minute' } } }, async (req: P, reply) => {
    const token = req.headers['x-device-token'];
    if (typeof token !== 'string' || !(await devices.authenticate(req.params.id, token))) {
      return reply.code(401).type('application/problem+json').send({ type: 'about:blank', status: 401, title: 'Thiết bị chưa đăng ký, đã bị thu hồi hoặc sai mã (unknown or revoked device, or wrong token)' });
    }
    const body = req.body as Record<string, unknown> | undefined;
    let payloads: string[];
    if (body?.resourceType === 'Observation' || body?.resourceType === 'Bundle') {
      const observations = body.resourceType === 'Bundle' ? ((body as unknown as Bundle).entry ?? []).map((e) => e.resource as Observation) : [body as unknown as Observation];
      payloads = observations.map((o, i) => {
        const reading = o?.resourceType === 'Observation' ? DeviceService.readingFromObservation(o) : undefined;
        const patient = o?.subject?.reference?.startsWith('Patient/') ? o.subject.reference.slice(8) : undefined;
        return JSON.stringify({ msgId: o?.identifier?.[0]?.value ?? o?.id ?? `http-${Date.now()}-${i}`, time: o?.effectiveDateTime ?? '', ...(patient ? { patient } : {}), readings: [reading ?? { type: 'unknown' }] });
      });
    } else payloads = [JSON.stringify(body ?? {})];
    const replies = await Promise.all(payloads.map((p) => devices.ingest(req.params.id, p, false)));
    const status = replies.every((r) => r.status === 'rejected' || r.status === 'refused') ? 422 : replies.some((r) => r.status === 'accepted') ? 201 : 200;
    return reply.code(status).send(replies.length === 1 ? replies[0] : replies);
  });

  app.get('/api/alerts', monitor, async (req) => devices.alerts(req.ctx, (req.query as { all?: string }).all !== 'true'));
  app.post('/api/alerts/:id/acknowledge', monitor, async (req: FastifyRequest<{ Params: { id: string } }>) => {
    const n = Number(req.params.id);
    if (!Number.isInteger(n) || n < 1) throw new InputError('id must be an alert number');
    await devices.acknowledge(req.ctx, n);
    return { status: 'acknowledged' };
  });
  app.put('/api/patients/:id/targets', monitor, async (req: P) =>
    devices.setTargets(req.ctx, req.params.id, parse(z.object({ systolicMax: z.number().int().min(90).max(200).optional(), diastolicMax: z.number().int().min(50).max(130).optional(), glucoseMin: z.number().min(2).max(10).optional(), glucoseMax: z.number().min(4).max(25).optional() }).strict(), req.body)));
  app.get('/api/programmes/:kind', monitor, async (req: FastifyRequest<{ Params: { kind: string } }>) => {
    const kind = req.params.kind;
    if (kind !== 'hypertension' && kind !== 'diabetes') throw new InputError('kind must be hypertension or diabetes');
    return chronicRegister(fhir, req.ctx, kind);
  });
}
