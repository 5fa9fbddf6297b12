/**
 * Device ingest: sustained readings/s from MQTT publishers (real `mqtt` clients, QoS 1) to
 * committed Observations through the embedded broker, rounds alternating with the same clients
 * pattern against a bare aedes broker (no authentication, no ingest) and with a raw COPY of the
 * same Observation JSON into a bare table; and the alert latency from PUBLISH to the event arriving
 * on a clinician's live stream (Server-Sent Events over HTTP). Devices are registered the way a
 * clinician does it (POST /api/devices) and connect with client id = device id.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type AddressInfo } from 'node:net';
import { Aedes } from 'aedes';
import type { Patient } from '@medplum/fhirtypes';
import mqtt from 'mqtt';
import { loadConfig } from '../src/config.ts';
import type { Db } from '../src/db/db.ts';
import { buildPlatform } from '../src/server.ts';
import { seedDemo } from '../src/seed/demo.ts';
import { checkReading } from '../src/devices/readings.ts';
import { copyBaseline, median, percentile } from './lib.ts';
import { freePort, sessionFor } from '../src/testing/platform.ts';

export interface IngestResult {
  /** Per round, readings/s committed through the platform. */
  ingest: number[];
  /** Per round, messages/s through a bare aedes broker with the same clients pattern. */
  broker: number[];
  /** Per round, rows/s of a COPY of the same Observation JSON into a bare table. */
  copy: number[];
  toCopy: number[];
  toBroker: number[];
  alertLatencies: number[];
  total: number;
  devices: number;
}

export async function benchIngest(
  db: Db,
  env: Record<string, string>,
  total: number,
  deviceCount: number,
  alertSamples: number,
  log: (m: string) => void,
  rounds = 3,
): Promise<IngestResult> {
  const port = await freePort();
  const config = loadConfig({ ...process.env, ...env, LOG_LEVEL: 'silent', PORT: String(port), CAUYTE_RATE_LIMIT: '100000000' });
  const p = await buildPlatform(config, { db, logger: false, mqttPort: 0, domains: ['devices'] });
  try {
    const demo = await seedDemo(p.store, deviceCount);
    // A clinician of each patient's own facility registers that patient's device.
    const system = p.store.system('benchmark setup');
    const bearers = new Map<string, string>();
    const bearerFor = async (org: string) => {
      if (!bearers.has(org)) {
        const staff = await p.accounts.create({
          username: `bench.devices.${org}.${Date.now()}`,
          displayName: 'Bench',
          kind: 'service',
          roles: [{ role: 'commune_clinician', organizationId: org }],
        });
        bearers.set(org, (await p.tokens.issue({ sub: staff.id, role: 'commune_clinician', org, scope: 'user/*.read user/*.write' })).token);
      }
      return bearers.get(org)!;
    };
    const devices: { device: { id: string }; token: string }[] = [];
    for (let i = 0; i < deviceCount; i++) {
      const patientId = demo.ids.patients[i % demo.ids.patients.length];
      const patient = await system.read<Patient>('Patient', patientId);
      const bearer = await bearerFor(patient.managingOrganization!.reference!.split('/')[1]);
      const res = await p.app.inject({
        method: 'POST',
        url: '/api/devices',
        headers: { authorization: `Bearer ${bearer}`, 'content-type': 'application/json' },
        payload: { type: 'multi', name: `Bench ${i}`, serial: `B-${i}`, patientId },
      });
      if (res.statusCode !== 201) throw new Error(`device registration answered ${res.statusCode}: ${res.body}`);
      devices.push(res.json());
    }
    const clients = await Promise.all(
      devices.map((d) => mqtt.connectAsync(`mqtt://127.0.0.1:${p.mqttPort}`, { username: d.device.id, password: d.token, clientId: d.device.id })),
    );
    const perDevice = Math.ceil(total / deviceCount);
    const stored = perDevice * deviceCount;
    const start = Date.now() - rounds * perDevice * 1000;
    /** One round: every device publishes perDevice readings, 20 QoS 1 messages in flight each. */
    const publishRound = async (cs: mqtt.MqttClient[], round: number) => {
      const t0 = performance.now();
      await Promise.all(
        cs.map(async (c, k) => {
          const topic = `cauyte/devices/${devices[k].device.id}/readings`;
          let next = 0;
          await Promise.all(
            Array.from({ length: 20 }, async () => {
              while (next < perDevice) {
                const i = next++;
                await c.publishAsync(
                  topic,
                  JSON.stringify({
                    msgId: `r${round}-b${i}`,
                    time: new Date(start + (round * perDevice + i) * 1000).toISOString(),
                    readings: [{ type: 'spo2', value: 95 + (i % 4), unit: '%' }],
                  }),
                  { qos: 1 },
                );
              }
            }),
          );
        }),
      );
      return stored / ((performance.now() - t0) / 1000);
    };

    // The broker alone: a bare aedes (no authentication, no ingest) on a free port, same clients pattern.
    const bare = await Aedes.createBroker({ concurrency: 1000 });
    const bareServer = createServer(bare.handle);
    await new Promise<void>((r) => bareServer.listen(0, '127.0.0.1', r));
    const barePort = (bareServer.address() as AddressInfo).port;
    const bareClients = await Promise.all(devices.map((d) => mqtt.connectAsync(`mqtt://127.0.0.1:${barePort}`, { clientId: d.device.id })));

    // The same Observations, as JSON, COPY'd into a bare table.
    const sample = checkReading({ type: 'spo2', value: 96, unit: '%' });
    const docs = Array.from({ length: Math.min(stored, 50_000) }, (_, i) =>
      JSON.stringify({
        ...('observation' in sample ? sample.observation : {}),
        id: randomUUID(),
        subject: { reference: `Patient/${demo.ids.patients[0]}` },
        effectiveDateTime: new Date(start + i * 1000).toISOString(),
        device: { reference: `Device/${devices[0].device.id}` },
      }),
    );

    // Rounds alternate: ingest, broker only, COPY (round 0 is the warm-up of each).
    const ingestRates: number[] = [];
    const brokerRates: number[] = [];
    const copyRates: number[] = [];
    let cpuPerReading = 0;
    for (let round = 0; round <= rounds; round++) {
      const cpu0 = process.cpuUsage();
      const ingest = await publishRound(clients, round);
      const cpu = process.cpuUsage(cpu0);
      const broker = await publishRound(bareClients, round);
      const copy = await copyBaseline(db, docs);
      if (round === 0) continue;
      ingestRates.push(ingest);
      brokerRates.push(broker);
      copyRates.push(copy);
      cpuPerReading += (cpu.user + cpu.system) / stored / rounds;
      log(`ingest round ${round}: ${ingest.toFixed(0)} readings/s, broker only ${broker.toFixed(0)}/s, COPY ${copy.toFixed(0)} rows/s`);
    }
    log(`ingest: ${cpuPerReading.toFixed(0)} µs CPU per reading in this process (broker, ingest, MQTT clients)`);
    await Promise.all(bareClients.map((c) => c.endAsync()));
    await new Promise<void>((r) => bare.close(() => r()));
    await new Promise<void>((r) => bareServer.close(() => r()));

    // Alert latency: an over-threshold reading opens an episode; a normal one closes it again.
    const base = await (async () => {
      await p.app.listen({ port, host: '127.0.0.1' });
      return config.baseUrl;
    })();
    // Live notifications are a signed-in person's (a session with its second factor), not an app token's.
    const session = await sessionFor(p, 'commune_clinician', { org: demo.ids.organizations.batxat });
    const controller = new AbortController();
    const res = await fetch(`${base}/api/events`, { headers: { cookie: session.cookie }, signal: controller.signal });
    if (res.status !== 200) throw new Error(`the alert stream answered ${res.status}: ${await res.text()}`);
    const waiting: ((at: number) => void)[] = [];
    void (async () => {
      const dec = new TextDecoder();
      try {
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>)
          if (dec.decode(chunk).includes('event: alert.opened')) waiting.shift()?.(performance.now());
      } catch {
        // aborted
      }
    })();
    const atStation = devices.findIndex((_, i) => i % 4 === 0); // patients 0, 4, … are registered at Bát Xát
    const client = clients[atStation];
    const topic = `cauyte/devices/${devices[atStation].device.id}/readings`;
    const latencies: number[] = [];
    for (let i = 0; i < alertSamples; i++) {
      const got = new Promise<number>((r) => waiting.push(r));
      const sent = performance.now();
      await client.publishAsync(
        topic,
        JSON.stringify({ msgId: `alert-${i}`, time: new Date().toISOString(), readings: [{ type: 'spo2', value: 85, unit: '%' }] }),
        { qos: 1 },
      );
      // An alert that never comes fails the bench instead of hanging it.
      const late = new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error(`no alert on the live stream within 10 s (sample ${i})`)), 10_000).unref(),
      );
      latencies.push((await Promise.race([got, late])) - sent);
      await client.publishAsync(
        topic,
        JSON.stringify({ msgId: `ok-${i}`, time: new Date(Date.now() + 1).toISOString(), readings: [{ type: 'spo2', value: 97, unit: '%' }] }),
        { qos: 1 },
      );
    }
    controller.abort();
    await Promise.all(clients.map((c) => c.endAsync()));
    log(`alert latency p50 ${median(latencies).toFixed(1)} ms p95 ${percentile(latencies, 95).toFixed(1)} ms`);
    return {
      ingest: ingestRates,
      broker: brokerRates,
      copy: copyRates,
      toCopy: ingestRates.map((x, i) => x / copyRates[i]),
      toBroker: ingestRates.map((x, i) => x / brokerRates[i]),
      alertLatencies: latencies,
      total: stored,
      devices: deviceCount,
    };
  } finally {
    await p.close();
  }
}
