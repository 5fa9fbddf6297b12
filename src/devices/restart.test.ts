/**
 * The platform is killed and started again while a device publishes 10,000 QoS-1 readings:
 * afterwards exactly 10,000 Observations exist — nothing lost (acknowledged only after commit),
 * nothing doubled (message ids).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import mqtt from 'mqtt';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../config.ts';
import { buildPlatform } from '../server.ts';
import { seedDemo } from '../seed/demo.ts';
import { createTestDb, type TestDb } from '../testing/databases.ts';
import { call, freePort, TEST_SECRET } from '../testing/platform.ts';
import { announcedUrl } from '../platform/demo-banner.ts';

const CLI = new URL('../../bin/cauyte.js', import.meta.url).pathname;
const TOTAL = 10_000;

function start(env: Record<string, string>): Promise<ChildProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'serve'], {
      env: { ...process.env, ...env, CAUYTE_DEMO: 'off', CAUYTE_JANUS: 'off', CAUYTE_ORTHANC: 'off', LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (announcedUrl(out)) resolve(child);
    });
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) => reject(new Error(`server exited (${code}): ${out}`)));
    // A server that never says it is ready is stopped, never left running after the test.
    setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server did not start: ${out}`));
    }, 60_000).unref();
  });
}

describe('device ingest across a restart', () => {
  let db: TestDb | undefined;
  afterAll(async () => db?.drop());

  it(`keeps exactly ${TOTAL} readings when the platform is killed mid-stream`, async () => {
    db = await createTestDb('postgres');
    const env = { DATABASE_URL: db.url!, CAUYTE_SECRET_KEY: TEST_SECRET, PORT: String(await freePort()), CAUYTE_MQTT_PORT: String(await freePort()) };
    // Set up in this process (embedded broker off: the server below owns the MQTT port), as a clinician would.
    const config = loadConfig({ ...process.env, ...env, CAUYTE_MQTT_PORT: '0', CAUYTE_DATA_DIR: '/nonexistent', LOG_LEVEL: 'silent' });
    const setup = await buildPlatform(config, { db: db.db, domains: ['devices'], logger: false });
    const demo = await seedDemo(setup.store, 4);
    const org = demo.ids.organizations.batxat;
    const account = await setup.accounts.create({
      username: 'restart.clinician',
      displayName: 'Clinician',
      kind: 'service',
      roles: [{ role: 'commune_clinician', organizationId: org }],
    });
    const bearer = (
      await setup.tokens.issue({ sub: account.id, role: 'commune_clinician', org, practitioner: demo.ids.practitioners[6], scope: 'user/*.read user/*.write' })
    ).token;
    const res = await call(
      setup,
      'POST',
      '/api/devices',
      { type: 'oximeter', name: 'SpO2', serial: 'R-1', patientId: demo.ids.patients[0] },
      { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
    );
    expect(res.status, res.text).toBe(201);
    const { device, token } = res.body as { device: { id: string }; token: string };
    await setup.close();

    let server = await start(env);
    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${env.CAUYTE_MQTT_PORT}`, {
      username: device.id,
      password: token,
      clientId: device.id,
      clean: false,
      reconnectPeriod: 200,
    });
    client.on('error', () => undefined);
    const topic = `cauyte/devices/${device.id}/readings`;
    const base = Date.now() - TOTAL * 1000;
    let acked = 0;
    let next = 0;
    const publishing = Promise.all(
      Array.from({ length: 50 }, async () => {
        while (next < TOTAL) {
          const i = next++;
          await client.publishAsync(
            topic,
            JSON.stringify({ msgId: `r${i}`, time: new Date(base + i * 1000).toISOString(), readings: [{ type: 'spo2', value: 90 + (i % 10), unit: '%' }] }),
            { qos: 1 },
          );
          acked++;
        }
      }),
    );
    while (acked < 3000) await new Promise((r) => setTimeout(r, 20));
    server.kill('SIGKILL');
    await new Promise((r) => server.once('exit', r));
    const ackedAtKill = acked;
    server = await start(env);
    await publishing;
    await client.endAsync();
    server.kill('SIGTERM');
    await new Promise((r) => server.once('exit', r));

    expect(ackedAtKill).toBeLessThan(TOTAL); // killed mid-stream
    const r = await db.db.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM resource r JOIN idx_reference x ON x.rid = r.rid JOIN search_param sp ON sp.id = x.param WHERE r.resource_type = 'Observation' AND NOT r.deleted AND sp.code = 'device' AND x.target_id = $1",
      [device.id],
    );
    expect(r.rows[0].n).toBe(TOTAL);
    const ids = await db.db.query<{ n: number }>('SELECT count(*)::int AS n FROM device_message WHERE device_id = $1', [device.id]);
    expect(ids.rows[0].n).toBe(TOTAL);
  });
});
