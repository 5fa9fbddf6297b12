/**
 * MQTT for devices. By default the platform runs its own broker (aedes, MQTT 3.1.1) and ingests
 * inside the broker's publish pipeline: a device's QoS 1 PUBLISH is acknowledged only after its
 * batch is committed, so a crash or restart never loses an acknowledged reading (the device resends
 * the rest). With MQTT_URL the platform instead subscribes to an external broker (Mosquitto) with
 * persistent MQTT 5 sessions and acknowledges each message only after commit.
 *
 * Topics: devices publish to cauyte/devices/<deviceId>/readings and may subscribe to
 * cauyte/devices/<deviceId>/replies, where the platform answers each message (docs/devices.md).
 *
 * Rules (embedded broker): a device connects with username = device id, password = its secret,
 * and client id = its device id — valid credentials under another client id are refused (CONNACK
 * 5, not authorized; counted and audited) before the broker would hand that client id over, so a
 * device can never disconnect another one. A message over the maximum payload or not UTF-8 text is
 * refused without PUBACK (mqtt-guard.ts); the connection is then closed, as MQTT 3.1.1 requires
 * when a PUBLISH is not authorised.
 */
import { createServer, type Server } from 'node:net';
import { Aedes, type Client } from 'aedes';
import mqtt, { type MqttClient } from 'mqtt';
import type { IngestReply } from './contract.ts';
import { capFrames, FRAME_HEADROOM, oversized, transportProblem } from './mqtt-guard.ts';
import type { DeviceService } from './service.ts';

type DeviceClient = Client & { deviceId?: string };

export const READINGS_TOPIC = /^cauyte\/devices\/([A-Za-z0-9\-.]{1,64})\/readings$/;
export const replyTopic = (deviceId: string) => `cauyte/devices/${deviceId}/replies`;

export class EmbeddedBroker {
  private broker?: Aedes;
  private server?: Server;
  private readonly clients = new Map<string, Set<Client>>();

  constructor(private readonly devices: DeviceService) {}

  async start(port: number, host: string): Promise<number> {
    const broker = await Aedes.createBroker({ concurrency: 1000, drainTimeout: 30_000, maxClientsIdLength: 100 });
    this.broker = broker;
    const max = this.devices.maxPayloadBytes;
    const counters = this.devices.counters;
    broker.authenticate = (client, username, password, callback) => {
      const deviceId = username ?? '';
      const refuse = (returnCode: 4 | 5, message: string) => callback(Object.assign(new Error(message), { returnCode }), false);
      this.devices.authenticate(deviceId, password?.toString('utf8') ?? '').then(
        (ok) => {
          if (!ok) {
            counters.connection('refusedCredentials', deviceId);
            return refuse(4, 'Bad device credentials');
          }
          if (client.id !== deviceId) {
            // Checked before the broker registers the client id: the device using it stays connected.
            counters.connection('refusedClientId', deviceId);
            void this.devices.refuseClientId(deviceId, client.id).catch(() => undefined);
            return refuse(5, 'The client id must be the device id');
          }
          counters.connection('accepted', deviceId);
          (client as DeviceClient).deviceId = deviceId;
          if (!this.clients.has(deviceId)) this.clients.set(deviceId, new Set());
          this.clients.get(deviceId)!.add(client);
          callback(null, true);
        },
        (err) => callback(Object.assign(err as Error, { returnCode: 3 as const }), false), // server unavailable
      );
    };
    broker.authorizePublish = (client, packet, callback) => {
      const deviceId = (client as DeviceClient | null)?.deviceId;
      const m = READINGS_TOPIC.exec(packet.topic);
      if (!client || !deviceId || !m || m[1] !== deviceId) return callback(new Error('A device publishes only to its own readings topic'));
      const payload = typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload;
      const problem = transportProblem(payload, max);
      if (problem) {
        // Never acknowledged: quarantined with the reason and counted, then refused (the broker closes the connection).
        this.devices.refuse(deviceId, problem).then(
          () => callback(new Error(problem.reason)),
          (err) => callback(err as Error),
        );
        return;
      }
      // Acknowledge (PUBACK) only once the batch holding this message is committed.
      this.devices.ingest(deviceId, payload.toString('utf8'), false).then(
        (reply) => {
          if (reply.status === 'refused') return callback(new Error('Device refused'));
          callback(null);
        },
        (err) => callback(err as Error),
      );
    };
    broker.authorizeSubscribe = (client, sub, callback) => {
      const deviceId = (client as DeviceClient).deviceId;
      if (!deviceId || sub.topic !== replyTopic(deviceId)) return callback(new Error('A device subscribes only to its own replies'), null);
      callback(null, sub);
    };
    broker.on('clientDisconnect', (client) => {
      const id = (client as DeviceClient).deviceId;
      if (id) this.clients.get(id)?.delete(client);
    });
    this.devices.onReply = (deviceId, reply) => this.reply(deviceId, reply);
    this.devices.onRevoke = (deviceId) => {
      for (const c of this.clients.get(deviceId) ?? []) c.close();
      this.clients.delete(deviceId);
    };
    this.server = createServer((socket) => {
      const client = broker.handle(socket) as DeviceClient;
      // An oversized packet is stopped from its header, before the rest is read into memory.
      capFrames(client, max + FRAME_HEADROOM, (bytes) => {
        if (client.deviceId) void this.devices.refuse(client.deviceId, oversized(bytes, max)).catch(() => undefined);
        else counters.message('oversized');
      });
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(port, host, () => resolve());
    });
    const addr = this.server.address();
    return typeof addr === 'object' && addr ? addr.port : port;
  }

  private reply(deviceId: string, reply: IngestReply): void {
    if (!this.broker || !this.clients.get(deviceId)?.size) return;
    this.broker.publish(
      { cmd: 'publish', topic: replyTopic(deviceId), payload: Buffer.from(JSON.stringify(reply)), qos: 0, retain: false, dup: false },
      () => undefined,
    );
  }

  async stop(): Promise<void> {
    for (const set of this.clients.values()) for (const c of set) c.close();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
    await new Promise<void>((r) => (this.broker ? this.broker.close(() => r()) : r()));
  }
}

/**
 * Ingest from an external broker: several MQTT 5 connections share one subscription (so messages
 * are processed in parallel and batched), each with a persistent session; a message is
 * acknowledged only after its batch is committed. A database failure drops the connection without
 * acknowledging, and the broker delivers the message again after reconnection. The external broker
 * authenticates devices and binds their client ids itself (docs/devices.md); the platform checks
 * the token each message carries, and drops (counted, quarantined) messages over the maximum
 * payload or not UTF-8 text.
 */
export class ExternalIngest {
  private readonly conns: MqttClient[] = [];

  constructor(
    private readonly devices: DeviceService,
    private readonly url: string,
    private readonly connections = 4,
    /** This node's name (CAUYTE_NODE_NAME): several nodes on one broker need client ids (and persistent sessions) of their own. */
    private readonly node?: string,
  ) {}

  async start(): Promise<void> {
    for (let i = 0; i < this.connections; i++) {
      const client = mqtt.connect(this.url, {
        clientId: this.node ? `cauyte-ingest-${this.node}-${i}` : `cauyte-ingest-${i}`,
        clean: false,
        protocolVersion: 5,
        properties: { sessionExpiryInterval: 7 * 24 * 3600 },
        reconnectPeriod: 1000,
        customHandleAcks: (topic, message, _packet, done) => {
          const m = READINGS_TOPIC.exec(topic);
          if (!m) return done(0x80); // not ours: nothing to keep
          const problem = transportProblem(message, this.devices.maxPayloadBytes);
          if (problem) {
            // Dropped, not processed: quarantined and counted, then a PUBACK with an error reason
            // (0x97 quota exceeded / 0x99 payload format invalid) so the broker does not redeliver it.
            this.devices.refuse(m[1], problem).then(
              (reply) => {
                done(problem.kind === 'oversized' ? 0x97 : 0x99);
                this.publishReply(client, m[1], reply);
              },
              () => client.end(true),
            );
            return;
          }
          this.devices.ingest(m[1], message.toString('utf8'), true).then(
            (reply) => {
              done(0);
              this.publishReply(client, m[1], reply);
            },
            () => client.end(true), // not acknowledged: the broker redelivers after reconnection
          );
        },
      });
      client.on('error', () => undefined);
      await new Promise<void>((resolve, reject) => {
        client.once('connect', () => resolve());
        client.once('error', reject);
      });
      await client.subscribeAsync('$share/cauyte-ingest/cauyte/devices/+/readings', { qos: 1 });
      this.conns.push(client);
    }
  }

  private publishReply(client: MqttClient, deviceId: string, reply: IngestReply): void {
    client.publish(replyTopic(deviceId), JSON.stringify(reply), { qos: 0 });
  }

  async stop(): Promise<void> {
    await Promise.all(this.conns.map((c) => c.endAsync()));
  }
}
