/**
 * Devices with real MQTT clients (the `mqtt` package) against the embedded broker and the local
 * Mosquitto: readings become Observations, duplicates are stored once, late readings land at their
 * own time, impossible readings go to quarantine with a reason (and a reply), a revoked device
 * cannot publish, an over-threshold reading opens exactly one alert per episode.
 */
import { randomUUID } from 'node:crypto';
import type { Bundle, Observation } from '@medplum/fhirtypes';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertValidResource } from '../fhir/validate.ts';
import { seedDemo, type DemoSummary } from '../seed/demo.ts';
import { call, startTestPlatform, type TestPlatform } from '../testing/platform.ts';
import { checkReading } from './readings.ts';

const MOSQUITTO = process.env.TEST_MQTT_URL ?? 'mqtt://127.0.0.1:1883';

function reading(msgId: string, time: string, readings: unknown[], extra: Record<string, unknown> = {}) {
  return JSON.stringify({ msgId, time, readings, ...extra });
}

async function count(p: TestPlatform, patientId: string, code = '8867-4'): Promise<number> {
  const r = await call<Bundle>(p, 'GET', `/fhir/R4/Observation?patient=${patientId}&code=${code}&_summary=count`);
  return r.body.total!;
}

describe('medical devices over MQTT', () => {
  let p: TestPlatform;
  let demo: DemoSummary;
  let clinician: string;

  beforeAll(async () => {
    p = await startTestPlatform('postgres', {}, undefined, { domains: ['devices'] });
    demo = await seedDemo(p.store, 8);
    clinician = await p.tokenFor('commune_clinician', { org: demo.ids.organizations.batxat, practitioner: demo.ids.practitioners[6] });
  });
  afterAll(async () => p?.close());

  const as = () => ({ authorization: `Bearer ${clinician}`, 'content-type': 'application/json' });

  async function register(patientId?: string) {
    const res = await call(
      p,
      'POST',
      '/api/devices',
      {
        type: 'multi',
        name: 'Máy đo tại nhà',
        serial: `SN-${randomUUID().slice(0, 8)}`,
        ...(patientId ? { patientId } : { organizationId: demo.ids.organizations.batxat }),
      },
      as(),
    );
    expect(res.status, res.text).toBe(201);
    return { id: res.body.device.id as string, token: res.body.token as string };
  }

  it('generates valid R4 Observations from readings', () => {
    for (const r of [
      { type: 'bp', systolic: 130, diastolic: 85, unit: 'mm[Hg]' },
      { type: 'hr', value: 70, unit: '/min' },
      { type: 'glucose', value: 6.1, unit: 'mmol/L' },
      { type: 'spo2', value: 97, unit: '%' },
      { type: 'temp', value: 37, unit: 'Cel' },
      { type: 'weight', value: 60, unit: 'kg' },
    ]) {
      const c = checkReading(r);
      expect('observation' in c, JSON.stringify(r)).toBe(true);
      if ('observation' in c) assertValidResource({ ...c.observation, subject: { reference: 'Patient/x' }, effectiveDateTime: '2026-01-01T00:00:00Z' });
    }
  });

  it('ingests through the embedded broker: duplicates once, late readings in place, bad readings quarantined with a reply', async () => {
    const patient = demo.ids.patients[0];
    const dev = await register(patient);
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${p.mqttPort}`, { username: dev.id, password: dev.token, clientId: dev.id });
    const replies: { msgId: string; status: string; reasons?: string[] }[] = [];
    await client.subscribeAsync(`cauyte/devices/${dev.id}/replies`, { qos: 0 });
    client.on('message', (_t, m) => replies.push(JSON.parse(m.toString())));
    const topic = `cauyte/devices/${dev.id}/readings`;
    const before = await count(p, patient);
    const now = Date.now();
    await client.publishAsync(topic, reading('m1', new Date(now - 60_000).toISOString(), [{ type: 'hr', value: 72, unit: '/min' }]), { qos: 1 });
    await client.publishAsync(topic, reading('m1', new Date(now - 60_000).toISOString(), [{ type: 'hr', value: 72, unit: '/min' }]), { qos: 1 }); // duplicate
    // Uploaded later but measured earlier (the device was offline): placed at its own time.
    await client.publishAsync(topic, reading('m0', new Date(now - 3 * 86_400_000).toISOString(), [{ type: 'hr', value: 66, unit: '/min' }]), { qos: 1 });
    await client.publishAsync(topic, reading('bad1', new Date(now).toISOString(), [{ type: 'spo2', value: 140, unit: '%' }]), { qos: 1 });
    await client.publishAsync(topic, reading('bad2', new Date(now).toISOString(), [{ type: 'weight', value: 60, unit: 'lb' }]), { qos: 1 });
    await client.publishAsync(topic, 'not json at all', { qos: 1 });
    expect(await count(p, patient)).toBe(before + 2);
    const hr = await call<Bundle>(p, 'GET', `/fhir/R4/Observation?patient=${patient}&code=8867-4&device=Device/${dev.id}&_sort=date`);
    expect(hr.body.entry!.map((e) => (e.resource as Observation).valueQuantity!.value)).toEqual([66, 72]);
    await expect.poll(() => replies.length).toBeGreaterThanOrEqual(5);
    expect(replies.find((r) => r.msgId === 'm1' && r.status === 'duplicate')).toBeDefined();
    expect(replies.find((r) => r.msgId === 'bad1')?.reasons?.[0]).toMatch(/SpO2 140/);
    expect(replies.find((r) => r.msgId === 'bad2')?.reasons?.[0]).toMatch(/wrong unit/);
    const q = await p.db.query<{ message_id: string | null; reasons: string[] }>(
      'SELECT message_id, reasons FROM device_quarantine WHERE device_id = $1 ORDER BY id',
      [dev.id],
    );
    expect(q.rows.map((r) => r.message_id)).toEqual(['bad1', 'bad2', null]);
    expect(q.rows[2].reasons[0]).toMatch(/not JSON/);
    await client.endAsync();
  });

  it('takes a burst with its retransmissions in reverse across overlapping batches: each reading once, answers in order, one alert', async () => {
    const patient = demo.ids.patients[0];
    const dev = await register(patient);
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${p.mqttPort}`, { username: dev.id, password: dev.token, clientId: dev.id });
    const replies: { msgId: string; status: string }[] = [];
    await client.subscribeAsync(`cauyte/devices/${dev.id}/replies`, { qos: 0 });
    client.on('message', (_t, m) => replies.push(JSON.parse(m.toString())));
    const topic = `cauyte/devices/${dev.id}/readings`;
    const n = 600; // with the copies, more than two batches of 500: batches overlap
    const ids = Array.from({ length: n }, (_, i) => `b${i}`);
    const at = (i: number) => new Date(Date.now() - (n - i) * 1000).toISOString();
    const order = [...ids, ...[...ids].reverse()];
    await Promise.all(
      order.map((id) =>
        client.publishAsync(topic, reading(id, at(Number(id.slice(1))), [{ type: 'bp', systolic: 172, diastolic: 104, unit: 'mm[Hg]' }]), { qos: 1 }),
      ),
    );
    await p.devices.drain();
    const stored = await call<Bundle>(p, 'GET', `/fhir/R4/Observation?device=Device/${dev.id}&_summary=count`);
    expect(stored.body.total).toBe(n);
    await expect.poll(() => replies.length).toBe(2 * n);
    expect(replies.map((r) => r.msgId)).toEqual(order);
    expect(replies.slice(0, n).every((r) => r.status === 'accepted')).toBe(true);
    expect(replies.slice(n).every((r) => r.status === 'duplicate')).toBe(true);
    const episodes = await p.db.query("SELECT id FROM alert_episode WHERE patient_id = $1 AND metric = 'bp'", [patient]);
    expect(episodes.rows).toHaveLength(1);
    await client.endAsync();
  });

  it('refuses a revoked device and a wrong token, and audits it', async () => {
    const dev = await register(demo.ids.patients[0]);
    await expect(
      mqtt.connectAsync(`mqtt://127.0.0.1:${p.mqttPort}`, { username: dev.id, password: 'wrong', clientId: dev.id, reconnectPeriod: 0 }),
    ).rejects.toThrow();
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${p.mqttPort}`, { username: dev.id, password: dev.token, clientId: dev.id, reconnectPeriod: 0 });
    const closed = new Promise<void>((r) => client.once('close', () => r()));
    expect((await call(p, 'POST', `/api/devices/${dev.id}/revoke`, {}, as())).status).toBe(200);
    await closed; // the broker dropped its connection
    await expect(
      mqtt.connectAsync(`mqtt://127.0.0.1:${p.mqttPort}`, { username: dev.id, password: dev.token, clientId: dev.id, reconnectPeriod: 0 }),
    ).rejects.toThrow();
    const http = await call(
      p,
      'POST',
      `/api/devices/${dev.id}/readings`,
      JSON.parse(reading('r1', new Date().toISOString(), [{ type: 'hr', value: 70, unit: '/min' }])),
      { authorization: '', 'x-device-token': dev.token, 'content-type': 'application/json' },
    );
    expect(http.status).toBe(401);
    const denied = await p.audit.list({ limit: 20, outcome: 'denied' });
    expect(denied.filter((e) => e.resource_id === dev.id && e.action === 'device.connect').length).toBeGreaterThanOrEqual(2);
  });

  it('shared station devices name the patient, who must be registered there', async () => {
    const dev = await register();
    // The station's staff see it (a shared device names no patient).
    const listed = await call<{ id: string; revoked: boolean }[]>(p, 'GET', '/api/devices', undefined, as());
    expect(listed.body.find((d) => d.id === dev.id)?.revoked).toBe(false);
    const ok = await call(
      p,
      'POST',
      `/api/devices/${dev.id}/readings`,
      JSON.parse(reading('s1', new Date().toISOString(), [{ type: 'bp', systolic: 128, diastolic: 80, unit: 'mm[Hg]' }], { patient: demo.ids.patients[0] })),
      { authorization: '', 'x-device-token': dev.token, 'content-type': 'application/json' },
    );
    expect(ok.status, ok.text).toBe(201);
    const elsewhere = await call(
      p,
      'POST',
      `/api/devices/${dev.id}/readings`,
      JSON.parse(reading('s2', new Date().toISOString(), [{ type: 'bp', systolic: 128, diastolic: 80, unit: 'mm[Hg]' }], { patient: demo.ids.patients[2] })),
      { authorization: '', 'x-device-token': dev.token, 'content-type': 'application/json' },
    );
    expect(elsewhere.status).toBe(422);
    expect(elsewhere.body.reasons[0]).toMatch(/không được quản lý tại trạm/);
    // A FHIR Observation over HTTP works too.
    const fhirObs = {
      resourceType: 'Observation',
      status: 'final',
      identifier: [{ value: 'fhir-1' }],
      code: { coding: [{ system: 'http://loinc.org', code: '59408-5' }] },
      subject: { reference: `Patient/${demo.ids.patients[0]}` },
      effectiveDateTime: new Date().toISOString(),
      valueQuantity: { value: 96, unit: '%', system: 'http://unitsofmeasure.org', code: '%' },
    };
    const viaFhir = await call(p, 'POST', `/api/devices/${dev.id}/readings`, fhirObs, {
      authorization: '',
      'x-device-token': dev.token,
      'content-type': 'application/fhir+json',
    });
    expect(viaFhir.status, viaFhir.text).toBe(201);
  });

  it('opens one alert per episode, closes it when readings return to range, honours per-patient targets', async () => {
    const patient = demo.ids.patients[4];
    const dev = await register(patient);
    const send = (msgId: string, s: number, d: number, minutesAgo = 0) =>
      call(
        p,
        'POST',
        `/api/devices/${dev.id}/readings`,
        JSON.parse(reading(msgId, new Date(Date.now() - minutesAgo * 60_000).toISOString(), [{ type: 'bp', systolic: s, diastolic: d, unit: 'mm[Hg]' }])),
        { authorization: '', 'x-device-token': dev.token, 'content-type': 'application/json' },
      );
    await send('a1', 165, 100, 30);
    await send('a2', 170, 102, 20);
    await send('a3', 168, 99, 10);
    const episodes = await p.db.query<{ id: number; severity: string; closed_at: Date | null }>(
      'SELECT id, severity, closed_at FROM alert_episode WHERE patient_id = $1 ORDER BY id',
      [patient],
    );
    expect(episodes.rows).toHaveLength(1);
    const flags = await call<Bundle>(p, 'GET', `/fhir/R4/Flag?patient=${patient}`);
    expect(
      flags.body.entry!.filter((e) => (e.resource as { status: string }).status === 'active'),
      flags.text,
    ).toHaveLength(1);
    await send('a4', 125, 80, 0);
    const closed = await p.db.query<{ closed_at: Date | null }>('SELECT closed_at FROM alert_episode WHERE patient_id = $1', [patient]);
    expect(closed.rows[0].closed_at).not.toBeNull();
    // A stricter target for this patient: 130/80 is now above it.
    expect((await call(p, 'PUT', `/api/patients/${patient}/targets`, { systolicMax: 125, diastolicMax: 79 }, as())).status).toBe(200);
    await send('a5', 130, 80, 0);
    const second = await p.db.query('SELECT id FROM alert_episode WHERE patient_id = $1 AND closed_at IS NULL', [patient]);
    expect(second.rows).toHaveLength(1);
    // The care team sees it and acknowledges it.
    const inbox = await call(p, 'GET', '/api/alerts', undefined, as());
    const mine = inbox.body.find((a: { patientId: string }) => a.patientId === patient);
    expect(mine).toBeDefined();
    expect((await call(p, 'POST', `/api/alerts/${mine.id}/acknowledge`, {}, as())).status).toBe(200);
  });

  it('escalates an alert nobody acknowledges in time', async () => {
    const patient = demo.ids.patients[0];
    const dev = await register(patient);
    await call(p, 'POST', `/api/devices/${dev.id}/readings`, JSON.parse(reading('e1', new Date().toISOString(), [{ type: 'spo2', value: 86, unit: '%' }])), {
      authorization: '',
      'x-device-token': dev.token,
      'content-type': 'application/json',
    });
    await p.db.query("UPDATE alert_episode SET opened_at = now() - interval '20 minutes' WHERE patient_id = $1 AND metric = 'spo2'", [patient]);
    expect(await p.devices.escalate()).toBeGreaterThanOrEqual(1);
    const note = await p.db.query("SELECT title FROM notification WHERE kind = 'alert' AND title LIKE 'Cảnh báo chưa ai xử lý%'");
    expect(note.rows.length).toBeGreaterThanOrEqual(1);
    expect(await p.devices.escalate()).toBe(0); // once
  });

  it('lists the hypertension register of the station', async () => {
    const reg = await call(p, 'GET', '/api/programmes/hypertension', undefined, as());
    expect(reg.status).toBe(200);
    expect(reg.body.programme).toBe('Tăng huyết áp');
    expect(reg.body.rows.length).toBeGreaterThan(0);
    for (const r of reg.body.rows) expect(typeof r.overdue).toBe('boolean');
  });
});

describe('ingest from the local Mosquitto', () => {
  let p: TestPlatform;
  let demo: DemoSummary;
  beforeAll(async () => {
    p = await startTestPlatform('pglite', { MQTT_URL: MOSQUITTO }, undefined, { domains: ['devices'] });
    demo = await seedDemo(p.store, 4);
  });
  afterAll(async () => p?.close());

  it('stores readings published to Mosquitto, once, refuses a wrong token and drops an oversized message', async () => {
    const clinician = await p.tokenFor('commune_clinician', { org: demo.ids.organizations.batxat, practitioner: demo.ids.practitioners[6] });
    const reg = await call(
      p,
      'POST',
      '/api/devices',
      { type: 'oximeter', name: 'SpO2', serial: 'M-1', patientId: demo.ids.patients[0] },
      { authorization: `Bearer ${clinician}`, 'content-type': 'application/json' },
    );
    const dev = reg.body.device.id as string;
    const token = reg.body.token as string;
    const client = await mqtt.connectAsync(MOSQUITTO, { clientId: `dev-${dev}` });
    const topic = `cauyte/devices/${dev}/readings`;
    const t = new Date().toISOString();
    await client.publishAsync(topic, reading('q1', t, [{ type: 'spo2', value: 97, unit: '%' }], { token }), { qos: 1 });
    await client.publishAsync(topic, reading('q1', t, [{ type: 'spo2', value: 97, unit: '%' }], { token }), { qos: 1 });
    await client.publishAsync(topic, reading('q2', t, [{ type: 'spo2', value: 96, unit: '%' }], { token: 'forged' }), { qos: 1 });
    await expect
      .poll(async () => (await call<Bundle>(p, 'GET', `/fhir/R4/Observation?device=Device/${dev}&_summary=count`)).body.total, { timeout: 5000 })
      .toBe(1);
    await expect.poll(async () => (await p.db.query('SELECT 1 FROM device_quarantine WHERE device_id = $1', [dev])).rows.length, { timeout: 5000 }).toBe(1);
    // An impossible reading with the right token: quarantined, the token not kept with it (nor the forged one).
    await client.publishAsync(topic, reading('q4', t, [{ type: 'spo2', value: 150, unit: '%' }], { token }), { qos: 1 });
    await expect.poll(async () => (await p.db.query('SELECT 1 FROM device_quarantine WHERE device_id = $1', [dev])).rows.length, { timeout: 5000 }).toBe(2);
    const kept = await p.db.query<{ payload: string }>('SELECT payload FROM device_quarantine WHERE device_id = $1', [dev]);
    expect(kept.rows.some((r) => r.payload.includes('"value":150'))).toBe(true);
    for (const r of kept.rows) expect(r.payload.includes(token) || r.payload.includes('forged')).toBe(false);
    // Over the payload limit: dropped (not processed, not redelivered), counted, quarantined with the reason.
    const before = p.devices.stats().messages.oversized;
    await client.publishAsync(topic, reading('q3', t, [{ type: 'spo2', value: 95, unit: '%' }], { token, pad: 'x'.repeat(100 * 1024) }), { qos: 1 });
    await expect.poll(() => p.devices.stats().messages.oversized, { timeout: 5000 }).toBe(before + 1);
    const reasons = await p.db.query<{ reasons: string[] }>('SELECT reasons FROM device_quarantine WHERE device_id = $1 ORDER BY id', [dev]);
    expect(reasons.rows.at(-1)!.reasons[0]).toMatch(/payload too large/);
    expect((await call<Bundle>(p, 'GET', `/fhir/R4/Observation?device=Device/${dev}&_summary=count`)).body.total).toBe(1);
    await client.endAsync();
  });
});
