/**
 * The devices domain's defences, with real MQTT clients against the embedded broker and real
 * actors over HTTP: a device cannot take over another device's connection (client id bound to the
 * credentials), oversized or non-text messages are never acknowledged nor stored, an Observation
 * that is not valid R4 goes to quarantine instead of the record, and what the alert workflow owns
 * (Flags, monitoring targets) cannot be changed through plain FHIR.
 */
import { randomUUID } from 'node:crypto';
import type { Bundle, CarePlan, Flag, Goal } from '@medplum/fhirtypes';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemo, type DemoSummary } from '../seed/demo.ts';
import { call, startTestPlatform, type TestPlatform } from '../testing/platform.ts';
import type { DeviceStats } from './contract.ts';

const reading = (msgId: string, readings: unknown[] = [{ type: 'hr', value: 71, unit: '/min' }]) =>
  JSON.stringify({ msgId, time: new Date().toISOString(), readings });

describe('device guards', () => {
  let p: TestPlatform;
  let demo: DemoSummary;
  let clinician: string;
  const as = () => ({ authorization: `Bearer ${clinician}`, 'content-type': 'application/json' });

  beforeAll(async () => {
    p = await startTestPlatform('postgres', {}, undefined, { domains: ['devices'] });
    demo = await seedDemo(p.store, 8);
    clinician = await p.tokenFor('commune_clinician', { org: demo.ids.organizations.batxat, practitioner: demo.ids.practitioners[6] });
  });
  afterAll(async () => p?.close());

  async function register(patientId = demo.ids.patients[0]) {
    const res = await call(p, 'POST', '/api/devices', { type: 'multi', name: 'Máy đo', serial: `G-${randomUUID().slice(0, 8)}`, patientId }, as());
    expect(res.status, res.text).toBe(201);
    return { id: res.body.device.id as string, token: res.body.token as string };
  }
  const connect = (dev: { id: string; token: string }, clientId = dev.id) =>
    mqtt.connectAsync(`mqtt://127.0.0.1:${p.mqttPort}`, { username: dev.id, password: dev.token, clientId, reconnectPeriod: 0 });
  const stored = async (deviceId: string) => (await call<Bundle>(p, 'GET', `/fhir/R4/Observation?device=Device/${deviceId}&_summary=count`)).body.total!;
  const stats = async () => (await call<DeviceStats>(p, 'GET', '/api/devices/stats', undefined, as())).body;

  /** Publishes at QoS 1 and says whether the broker acknowledged it or closed the connection first. */
  async function publishOutcome(client: MqttClient, topic: string, payload: string | Buffer): Promise<'acked' | 'closed'> {
    client.on('error', () => undefined);
    const closed = new Promise<'closed'>((r) => client.once('close', () => r('closed')));
    const acked = client.publishAsync(topic, payload, { qos: 1 }).then(
      () => 'acked' as const,
      () => closed,
    );
    return Promise.race([acked, closed]);
  }

  it('refuses valid credentials under another device’s client id, and the real device stays connected', async () => {
    const victim = await register();
    const attacker = await register(demo.ids.patients[4]);
    const real = await connect(victim);
    let dropped = false;
    real.on('close', () => (dropped = true));
    const topic = `cauyte/devices/${victim.id}/readings`;
    await real.publishAsync(topic, reading('v1'), { qos: 1 });
    const before = await stats();

    const hijack = connect(attacker, victim.id);
    await expect(hijack).rejects.toThrow(/Not authorized/i);

    // The legitimate connection was never kicked, and its readings keep arriving.
    await new Promise((r) => setTimeout(r, 200));
    expect(dropped).toBe(false);
    expect(real.connected).toBe(true);
    await real.publishAsync(topic, reading('v2'), { qos: 1 });
    expect(await stored(victim.id)).toBe(2);
    expect((await stats()).connections.refusedClientId).toBe(before.connections.refusedClientId + 1);
    const denied = await p.audit.list({ limit: 50, outcome: 'denied', action: 'device.connect' });
    expect(denied.find((e) => e.resource_id === attacker.id && JSON.stringify(e.detail).includes('client id'))).toBeDefined();
    await real.endAsync();
  });

  it('never acknowledges an oversized (2 MB, or just over the limit) or non-text payload, stores nothing, and counts it', async () => {
    const dev = await register();
    const topic = `cauyte/devices/${dev.id}/readings`;
    const before = await stats();
    // 2 MB: stopped from the packet header, before it is read.
    const big = JSON.stringify({
      msgId: 'big',
      time: new Date().toISOString(),
      readings: [{ type: 'hr', value: 70, unit: '/min' }],
      pad: 'x'.repeat(2 * 1024 * 1024),
    });
    expect(await publishOutcome(await connect(dev), topic, big)).toBe('closed');
    // Just over the limit (64 KiB + 100 bytes): refused in the broker's publish check.
    const over = JSON.stringify({ msgId: 'over', time: new Date().toISOString(), readings: [], pad: 'x'.repeat(64 * 1024 + 100) });
    expect(await publishOutcome(await connect(dev), topic, over)).toBe('closed');
    // Not UTF-8 text.
    expect(await publishOutcome(await connect(dev), topic, Buffer.from([0x7b, 0xff, 0xfe, 0x00, 0x7d]))).toBe('closed');

    await p.devices.drain();
    expect(await stored(dev.id)).toBe(0);
    await expect.poll(async () => (await stats()).messages.oversized).toBe(before.messages.oversized + 2);
    expect((await stats()).messages.malformed).toBe(before.messages.malformed + 1);
    const q = await call<{ device_id: string; reasons: string[] }[]>(p, 'GET', '/api/devices/quarantine', undefined, as());
    const mine = q.body.filter((x) => x.device_id === dev.id).flatMap((x) => x.reasons);
    expect(mine.filter((r) => /payload too large/.test(r))).toHaveLength(2);
    expect(mine.filter((r) => /not UTF-8/.test(r))).toHaveLength(1);

    // The device itself is fine: a normal message is acknowledged and stored.
    const client = await connect(dev);
    expect(await publishOutcome(client, topic, reading('ok'))).toBe('acked');
    expect(await stored(dev.id)).toBe(1);
    await client.endAsync();
  });

  it('quarantines a reading whose Observation is not valid R4 and stores the rest of the batch', async () => {
    const dev = await register();
    const client = await connect(dev);
    const topic = `cauyte/devices/${dev.id}/readings`;
    const before = await stats();
    // A control character in the message id makes the Observation's identifier an invalid FHIR string.
    await Promise.all([
      client.publishAsync(topic, reading('ok-1'), { qos: 1 }),
      client.publishAsync(topic, reading('bad\u0001id'), { qos: 1 }),
      client.publishAsync(topic, reading('ok-2'), { qos: 1 }),
    ]);
    await client.endAsync();
    const obs = await call<Bundle>(p, 'GET', `/fhir/R4/Observation?device=Device/${dev.id}`);
    expect(obs.body.entry?.map((e) => (e.resource as { identifier: { value: string }[] }).identifier[0].value).sort()).toEqual([
      `${dev.id}:ok-1:0`,
      `${dev.id}:ok-2:0`,
    ]);
    const q = await call<{ device_id: string; message_id: string; reasons: string[] }[]>(p, 'GET', '/api/devices/quarantine', undefined, as());
    const bad = q.body.find((x) => x.device_id === dev.id && x.message_id === 'bad\u0001id');
    expect(bad?.reasons[0]).toMatch(/invalid FHIR Observation.*identifier/);
    expect((await stats()).invalidObservations).toBe(before.invalidObservations + 1);
    // Over HTTP the device is told why.
    const http = await call(p, 'POST', `/api/devices/${dev.id}/readings`, JSON.parse(reading('bad\u0002http')), {
      authorization: '',
      'x-device-token': dev.token,
      'content-type': 'application/json',
    });
    expect(http.status).toBe(422);
    expect(http.body.reasons[0]).toMatch(/invalid FHIR Observation/);
    expect(await stored(dev.id)).toBe(2);
  });

  it('answers /api/devices/stats with the caller’s facility’s counts only (another facility sees none of this one’s traffic)', async () => {
    const other = await p.tokenFor('specialist', { org: demo.ids.organizations.bachmai, practitioner: demo.ids.practitioners[0] });
    const statsOf = async (token: string) => (await call<DeviceStats>(p, 'GET', '/api/devices/stats', undefined, { authorization: `Bearer ${token}` })).body;
    const [mine, theirs, all] = [await stats(), await statsOf(other), p.devices.stats()];
    const dev = await register();
    const client = await connect(dev);
    await client.publishAsync(`cauyte/devices/${dev.id}/readings`, reading(`s-${randomUUID()}`), { qos: 1 });
    await client.endAsync();
    await connect({ id: dev.id, token: 'wrong' }).catch(() => undefined);
    const [mine2, theirs2, all2] = [await stats(), await statsOf(other), p.devices.stats()];
    expect(mine2.connections.accepted).toBe(mine.connections.accepted + 1);
    expect(mine2.connections.refusedCredentials).toBe(mine.connections.refusedCredentials + 1);
    expect(mine2.messages.accepted).toBe(mine.messages.accepted + 1);
    expect(mine2.observations).toBe(mine.observations + 1);
    expect(theirs2).toEqual(theirs);
    expect(all2.messages.accepted).toBe(all.messages.accepted + 1);
  });

  it('keeps alert Flags and monitoring targets to their workflow: plain FHIR writes are refused with the route to use', async () => {
    const patient = demo.ids.patients[0];
    const dev = await register(patient);
    const send = (msgId: string, spo2: number) =>
      call(p, 'POST', `/api/devices/${dev.id}/readings`, JSON.parse(reading(msgId, [{ type: 'spo2', value: spo2, unit: '%' }])), {
        authorization: '',
        'x-device-token': dev.token,
        'content-type': 'application/json',
      });
    expect((await send('w1', 85)).status).toBe(201);
    const flags = await call<Bundle>(p, 'GET', `/fhir/R4/Flag?patient=${patient}`);
    const flag = flags.body.entry!.map((e) => e.resource as Flag).find((f) => f.status === 'active' && /SpO2 85/.test(f.code.text ?? ''))!;
    expect(flag).toBeDefined();
    const clinicianFhir = { ...as(), 'content-type': 'application/fhir+json' };
    // Closing it by hand, or editing it, or deleting it: 422 naming the alerts route.
    const put = await call(p, 'PUT', `/fhir/R4/Flag/${flag.id}`, { ...flag, status: 'inactive' }, clinicianFhir);
    expect(put.status, put.text).toBe(422);
    expect(put.text).toContain('/api/alerts/{id}/acknowledge');
    expect((await call(p, 'DELETE', `/fhir/R4/Flag/${flag.id}`)).status).toBe(422); // an integration system, which may delete
    const forged = await call(p, 'POST', '/fhir/R4/Flag', { ...flag, id: undefined, meta: undefined });
    expect(forged.status).toBe(422);
    // The workflow itself still closes it.
    expect((await send('w2', 97)).status).toBe(201);
    expect((await call<Flag>(p, 'GET', `/fhir/R4/Flag/${flag.id}`)).body.status).toBe('inactive');

    // Targets: set through the route, refused through plain FHIR.
    const set = await call<CarePlan>(p, 'PUT', `/api/patients/${patient}/targets`, { systolicMax: 130, diastolicMax: 85 }, as());
    expect(set.status, set.text).toBe(200);
    const plan = set.body;
    const edit = await call(p, 'PUT', `/fhir/R4/CarePlan/${plan.id}`, { ...plan, status: 'revoked' }, clinicianFhir);
    expect(edit.status).toBe(422);
    expect(edit.text).toContain('/api/patients/{id}/targets');
    const goalId = plan.goal![0].reference!.split('/')[1];
    const goal = (await call<Goal>(p, 'GET', `/fhir/R4/Goal/${goalId}`)).body;
    expect((await call(p, 'PUT', `/fhir/R4/Goal/${goalId}`, { ...goal, target: [] }, clinicianFhir)).status).toBe(422);
    const newGoal = await call(p, 'POST', '/fhir/R4/Goal', { ...goal, id: undefined, meta: undefined }, clinicianFhir);
    expect(newGoal.status).toBe(422);
    // A Goal without the marker is an ordinary FHIR resource.
    const plain = await call(
      p,
      'POST',
      '/fhir/R4/Goal',
      { resourceType: 'Goal', lifecycleStatus: 'active', description: { text: 'Đi bộ 30 phút mỗi ngày' }, subject: { reference: `Patient/${patient}` } },
      clinicianFhir,
    );
    expect(plain.status, plain.text).toBe(201);
  });
});
