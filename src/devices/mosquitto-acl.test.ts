/**
 * The shipped Mosquitto configuration (deploy/mosquitto: cauyte.conf, cauyte-devices.acl,
 * cauyte-ingest.acl) on a real Mosquitto of its own: nobody connects without an account; a device
 * (username = its id) publishes its own readings and reads its own replies only — not another
 * device's readings (which carry that device's token), not another device's topic; the platform's
 * ingest account, given in MQTT_URL, reads every device's readings through its shared subscription
 * on a listener of its own and answers each device; a device's client id is its username, so it
 * cannot disconnect the ingest (or another device) by connecting under its client id.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Bundle } from '@medplum/fhirtypes';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedDemo, type DemoSummary } from '../seed/demo.ts';
import { call, freePort, startTestPlatform, type TestPlatform } from '../testing/platform.ts';

const DEPLOY = new URL('../../deploy/mosquitto/', import.meta.url);
const INGEST_PASSWORD = 'ingest-pw-for-the-test';

describe('the shipped Mosquitto ACL', () => {
  let broker: ChildProcess;
  let dir: string;
  let url: string;
  let p: TestPlatform;
  let demo: DemoSummary;
  /** The devices' accounts and the platform's, each listener with its own file. */
  const passwd = () => join(dir, 'cauyte-devices.passwd');
  const ingestPasswd = () => join(dir, 'cauyte-ingest.passwd');
  let ingestUrl: string;
  let serials = 0;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'cauyte-mosquitto-'));
    const [port, ingestPort] = [await freePort(), await freePort()];
    // The shipped files, with this test's paths and ports.
    for (const acl of ['cauyte-devices.acl', 'cauyte-ingest.acl']) writeFileSync(join(dir, acl), readFileSync(new URL(acl, DEPLOY)));
    const conf = readFileSync(new URL('cauyte.conf', DEPLOY), 'utf8');
    const rewritten = conf
      .replaceAll('/etc/mosquitto/', `${dir}/`)
      .replace(/^listener 1883$/m, `listener ${port} 127.0.0.1`)
      .replace(/^listener 1884 127\.0\.0\.1$/m, `listener ${ingestPort} 127.0.0.1`);
    expect(rewritten).not.toContain('/etc/mosquitto');
    expect(rewritten).toContain(`listener ${ingestPort} `);
    writeFileSync(join(dir, 'cauyte.conf'), rewritten);
    execFileSync('mosquitto_passwd', ['-c', '-b', ingestPasswd(), 'cauyte-ingest', INGEST_PASSWORD]);
    writeFileSync(passwd(), ''); // devices' accounts are added as they are registered
    // Started as root, Mosquitto drops to its own user, which must read these files.
    chmodSync(dir, 0o755);
    for (const f of [passwd(), ingestPasswd()]) chmodSync(f, 0o644);
    broker = spawn('mosquitto', ['-c', join(dir, 'cauyte.conf')], { stdio: 'ignore' });
    url = `mqtt://127.0.0.1:${port}`;
    ingestUrl = `mqtt://127.0.0.1:${ingestPort}`;
    // Up when the ingest account can sign in.
    for (let tries = 0; ; tries++) {
      const up = await mqtt.connectAsync(ingestUrl, { username: 'cauyte-ingest', password: INGEST_PASSWORD, reconnectPeriod: 0 }).then(
        (c) => c.endAsync().then(() => true),
        () => false,
      );
      if (up) break;
      if (tries > 50) throw new Error('mosquitto did not start with the shipped configuration');
      await new Promise((r) => setTimeout(r, 100));
    }
    p = await startTestPlatform('pglite', { MQTT_URL: `mqtt://cauyte-ingest:${INGEST_PASSWORD}@127.0.0.1:${ingestPort}` }, undefined, { domains: ['devices'] });
    demo = await seedDemo(p.store, 4);
  });
  afterAll(async () => {
    await p?.close();
    broker?.kill();
  });

  /** A registered device with its broker account (username = device id, password = its secret). */
  async function device(patient: string) {
    const clinician = await p.tokenFor('commune_clinician', { org: demo.ids.organizations.batxat, practitioner: demo.ids.practitioners[6] });
    const reg = await call(
      p,
      'POST',
      '/api/devices',
      { type: 'oximeter', name: 'SpO2', serial: `ACL-${++serials}`, patientId: patient },
      { authorization: `Bearer ${clinician}`, 'content-type': 'application/json' },
    );
    expect(reg.status, reg.text).toBe(201);
    const id = reg.body.device.id as string;
    const token = reg.body.token as string;
    execFileSync('mosquitto_passwd', ['-b', passwd(), id, token]);
    chmodSync(passwd(), 0o644);
    return { id, token };
  }
  const reading = (msgId: string, token: string, value: number) =>
    JSON.stringify({ msgId, time: new Date().toISOString(), token, readings: [{ type: 'spo2', value, unit: '%' }] });
  const stored = async (id: string) => (await call<Bundle>(p, 'GET', `/fhir/R4/Observation?device=Device/${id}&_summary=count`)).body.total;

  it('refuses anonymous clients; a device reaches its own topics only; the platform reads all and answers', async () => {
    const a = await device(demo.ids.patients[0]);
    const b = await device(demo.ids.patients[0]);
    broker.kill('SIGHUP'); // Mosquitto reads its password file again
    await new Promise((r) => setTimeout(r, 300));

    await expect(mqtt.connectAsync(url, { reconnectPeriod: 0 })).rejects.toThrow();
    await expect(mqtt.connectAsync(url, { username: a.id, password: 'wrong', reconnectPeriod: 0 })).rejects.toThrow();

    const devA = await mqtt.connectAsync(url, { username: a.id, password: a.token, clientId: a.id, reconnectPeriod: 0 });
    const devB = await mqtt.connectAsync(url, { username: b.id, password: b.token, clientId: b.id, reconnectPeriod: 0 });
    const heardByA: string[] = [];
    devA.on('message', (topic, m) => heardByA.push(`${topic} ${m.toString()}`));
    await devA.subscribeAsync(`cauyte/devices/${a.id}/replies`, { qos: 1 });
    await devA.subscribeAsync('#', { qos: 1 }).catch(() => undefined);
    await devA.subscribeAsync(`cauyte/devices/${b.id}/readings`, { qos: 1 }).catch(() => undefined);

    // A writes on B's topic (with a forged token): the broker drops it, the platform never sees it.
    await devA.publishAsync(`cauyte/devices/${b.id}/readings`, reading('forged-1', 'forged', 97), { qos: 1 });
    // B's own reading is stored — and A, subscribed to everything it asked for, never hears it (nor B's token).
    await devB.publishAsync(`cauyte/devices/${b.id}/readings`, reading('b-1', b.token, 96), { qos: 1 });
    await expect.poll(() => stored(b.id), { timeout: 5000 }).toBe(1);
    // A's own reading is stored and answered on A's replies topic.
    await devA.publishAsync(`cauyte/devices/${a.id}/readings`, reading('a-1', a.token, 98), { qos: 1 });
    await expect.poll(() => stored(a.id), { timeout: 5000 }).toBe(1);
    await expect.poll(() => heardByA.join('\n'), { timeout: 5000 }).toContain('"msgId":"a-1"');
    await new Promise((r) => setTimeout(r, 300));
    expect(heardByA.every((h) => h.startsWith(`cauyte/devices/${a.id}/replies `))).toBe(true);
    expect(heardByA.join('\n')).not.toContain(b.token);
    const refused = await p.db.query('SELECT 1 FROM device_quarantine WHERE device_id = $1', [b.id]);
    expect(refused.rows).toHaveLength(0); // the forged message never reached the platform
    await devA.endAsync();
    await devB.endAsync();
  });

  it("keeps each listener's accounts to it, and a device's client id to its username: it cannot disconnect the ingest under the ingest's client id", async () => {
    const a = await device(demo.ids.patients[0]);
    broker.kill('SIGHUP');
    await new Promise((r) => setTimeout(r, 300));
    // Each listener knows only its own accounts.
    await expect(mqtt.connectAsync(ingestUrl, { username: a.id, password: a.token, reconnectPeriod: 0 })).rejects.toThrow();
    await expect(mqtt.connectAsync(url, { username: 'cauyte-ingest', password: INGEST_PASSWORD, reconnectPeriod: 0 })).rejects.toThrow();
    // An ingest connection of our own, watched; then the device connects under its client id.
    const watched = await mqtt.connectAsync(ingestUrl, {
      username: 'cauyte-ingest',
      password: INGEST_PASSWORD,
      clientId: 'cauyte-ingest-watched',
      reconnectPeriod: 0,
    });
    let kicked = false;
    watched.on('close', () => (kicked = true));
    const dev = await mqtt.connectAsync(url, { username: a.id, password: a.token, clientId: 'cauyte-ingest-watched', reconnectPeriod: 0 });
    await new Promise((r) => setTimeout(r, 1000));
    expect(kicked).toBe(false);
    expect(watched.connected).toBe(true);
    // The platform's own ingest still takes the device's readings.
    await dev.publishAsync(`cauyte/devices/${a.id}/readings`, reading('a-clientid-1', a.token, 95), { qos: 1 });
    await expect.poll(() => stored(a.id), { timeout: 5000 }).toBe(1);
    await dev.endAsync();
    await watched.endAsync();
  });
});
