/**
 * Janus (the SFU for large sessions), driven over its HTTP API. The platform connects to the
 * instances in JANUS_URL (comma-separated; rooms are spread over them), or starts and supervises a
 * local `janus` binary bound to loopback with a generated configuration (only the VideoRoom plugin
 * and the HTTP transport). With neither, rooms stay peer-to-peer and a session over the mesh limit
 * is refused with a message that says what to install.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import type { Config } from '../config.ts';
import { Supervisor } from '../platform/supervisor.ts';

export interface JanusEvent {
  janus: string;
  sender?: number;
  plugindata?: { plugin: string; data: Record<string, unknown> };
  jsep?: { type: string; sdp: string };
  [k: string]: unknown;
}

/** Janus did not answer in time: the request may still be carried out (a busy Janus answers late). */
export class JanusTimeout extends Error {}

/** One Janus instance: room administration and sessions. */
export class JanusInstance {
  constructor(readonly url: string) {}

  async request(path: string, body: Record<string, unknown>, transaction = tx()): Promise<JanusEvent> {
    const res = await fetch(`${this.url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ transaction, ...body }),
    });
    const json = (await res.json()) as JanusEvent;
    if (json.janus === 'error') throw new Error(`Janus: ${(json.error as { reason?: string })?.reason ?? 'error'}`);
    return json;
  }

  async info(): Promise<Record<string, unknown>> {
    const res = await fetch(`${this.url}/info`);
    return (await res.json()) as Record<string, unknown>;
  }

  /** A session with its own event stream; the caller must `close()` it. */
  async session(): Promise<JanusSession> {
    const id = ((await this.request('', { janus: 'create' })).data as { id: number }).id;
    return new JanusSession(this, id);
  }

  /** A VideoRoom room for a platform room (synchronous request). */
  async createRoom(room: number, publishers: number, secret: string, recDir?: string): Promise<void> {
    const s = await this.session();
    try {
      const handle = await s.attach();
      const r = await s.message(handle, {
        request: 'create',
        room,
        publishers,
        secret,
        bitrate: 1_400_000,
        bitrate_cap: true,
        fir_freq: 10,
        videocodec: 'vp8',
        audiocodec: 'opus',
        notify_joining: true,
        is_private: true,
        permanent: false,
        audiolevel_event: true,
        ...(recDir ? { rec_dir: recDir } : {}),
      });
      const data = r.plugindata?.data as { videoroom?: string; error?: string; error_code?: number } | undefined;
      if (data?.videoroom !== 'created' && data?.error_code !== 427 /* already exists */)
        throw new Error(`Janus could not create the room: ${data?.error ?? 'unknown'}`);
    } finally {
      await s.close();
    }
  }

  /** Starts or stops recording every publisher of a room (into the room's rec_dir). */
  async setRecording(room: number, secret: string, record: boolean): Promise<void> {
    const s = await this.session();
    try {
      const handle = await s.attach();
      const r = await s.message(handle, { request: 'enable_recording', room, secret, record });
      const data = r.plugindata?.data as { error?: string } | undefined;
      if (data?.error) throw new Error(`Janus could not ${record ? 'start' : 'stop'} recording: ${data.error}`);
    } finally {
      await s.close();
    }
  }

  async destroyRoom(room: number, secret: string): Promise<void> {
    const s = await this.session();
    try {
      await s.message(await s.attach(), { request: 'destroy', room, secret });
    } finally {
      await s.close();
    }
  }
}

function tx(): string {
  return randomBytes(8).toString('hex');
}

/**
 * A Janus session: handles, plugin messages whose answers arrive asynchronously (matched by
 * transaction), other events per handle, and a keepalive. Events come by HTTP long poll.
 */
export class JanusSession {
  private running = true;
  private readonly controller = new AbortController();
  private readonly waiting = new Map<string, (e: JanusEvent) => void>();
  private readonly listeners = new Map<number, (e: JanusEvent) => void>();
  private readonly keepalive: NodeJS.Timeout;

  constructor(
    readonly instance: JanusInstance,
    readonly id: number,
  ) {
    void this.poll();
    this.keepalive = setInterval(() => void this.instance.request(`/${this.id}`, { janus: 'keepalive' }).catch(() => undefined), 25_000);
    this.keepalive.unref();
  }

  async attach(onEvent?: (e: JanusEvent) => void): Promise<number> {
    const handle = ((await this.instance.request(`/${this.id}`, { janus: 'attach', plugin: 'janus.plugin.videoroom' })).data as { id: number }).id;
    if (onEvent) this.listeners.set(handle, onEvent);
    return handle;
  }

  /**
   * A plugin message. Synchronous requests answer at once; asynchronous ones (join, configure,
   * start) answer `ack` first and the real answer comes as an event with the same transaction.
   */
  async message(handle: number, body: Record<string, unknown>, jsep?: unknown, timeoutMs = 10_000): Promise<JanusEvent> {
    const transaction = tx();
    const answered = new Promise<JanusEvent>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(transaction);
        reject(new JanusTimeout(`Janus did not answer ${String(body.request)} in time`));
      }, timeoutMs);
      this.waiting.set(transaction, (e) => {
        clearTimeout(timer);
        resolve(e);
      });
    });
    const first = await this.instance.request(`/${this.id}/${handle}`, { janus: 'message', body, ...(jsep ? { jsep } : {}) }, transaction);
    if (first.janus !== 'ack') {
      this.waiting.get(transaction)?.(first);
      this.waiting.delete(transaction);
    }
    answered.catch(() => undefined);
    const e = await answered;
    const data = e.plugindata?.data as { error?: string } | undefined;
    if (data?.error && e.janus === 'event') throw new Error(`Janus: ${data.error}`);
    return e;
  }

  async trickle(handle: number, candidate: unknown): Promise<void> {
    await this.instance.request(`/${this.id}/${handle}`, { janus: 'trickle', candidate: candidate ?? { completed: true } });
  }

  async detach(handle: number): Promise<void> {
    this.listeners.delete(handle);
    await this.instance.request(`/${this.id}/${handle}`, { janus: 'detach' }).catch(() => undefined);
  }

  async close(): Promise<void> {
    this.running = false;
    clearInterval(this.keepalive);
    this.controller.abort();
    await this.instance.request(`/${this.id}`, { janus: 'destroy' }).catch(() => undefined);
  }

  private async poll(): Promise<void> {
    while (this.running) {
      try {
        const res = await fetch(`${this.instance.url}/${this.id}?maxev=10`, { signal: this.controller.signal });
        const body = (await res.json()) as JanusEvent | JanusEvent[];
        for (const e of Array.isArray(body) ? body : [body]) this.dispatch(e);
      } catch {
        if (this.running) await new Promise((r) => setTimeout(r, 200));
      }
    }
  }

  private dispatch(e: JanusEvent): void {
    if (e.janus === 'keepalive' || e.janus === 'ack') return;
    const t = typeof e.transaction === 'string' ? e.transaction : undefined;
    const waiter = t ? this.waiting.get(t) : undefined;
    if (waiter) {
      this.waiting.delete(t!);
      waiter(e);
      return;
    }
    if (e.sender !== undefined) this.listeners.get(e.sender)?.(e);
  }
}

/** Starts a local janus on loopback with a generated configuration (only the VideoRoom plugin and HTTP); restarts it if it dies. */
export class JanusSupervisor {
  private readonly child: Supervisor;
  url?: string;

  constructor(
    private readonly dir: string,
    binary = '/usr/bin/janus',
    /** Janus's -E list: the only interfaces it gathers ICE candidates on (loopback unless configured). */
    iceInterfaces = 'lo',
  ) {
    this.child = new Supervisor({
      name: 'janus',
      dir,
      binary,
      configure: (port) => {
        this.writeConfig(port);
        return ['-F', dir, '-C', join(dir, 'janus.jcfg'), '-o', '-N', '-L', join(dir, 'janus.log'), ...(iceInterfaces ? ['-E', iceInterfaces] : [])];
      },
      readyUrl: (port) => `http://127.0.0.1:${port}/janus/info`,
      startMs: 10_000,
      stopMs: 3000,
    });
  }

  static available(binary = '/usr/bin/janus'): boolean {
    return existsSync(binary);
  }

  async start(): Promise<string> {
    const port = await this.child.start();
    this.url = `http://127.0.0.1:${port}/janus`;
    return this.url;
  }

  /**
   * ICE lite (nat.ice_lite): this Janus gathers host candidates only (no STUN: the -E interfaces are
   * reachable addresses), which is ICE lite's case — the browser, then always the controlling agent,
   * checks and nominates; Janus only answers. In full mode Janus controls every subscription (it
   * offers) and its libnice 0.1.21 agent was seen to stay 'connecting' while the browser answered all
   * its checks, so the browser's DTLS hellos went unanswered and the subscription was made again.
   */
  private writeConfig(port: number): void {
    const write = (name: string, text: string) => writeFileSync(join(this.dir, name), text);
    write(
      'janus.jcfg',
      `general: {\n configs_folder = "${this.dir}"\n plugins_folder = "/usr/lib/x86_64-linux-gnu/janus/plugins"\n transports_folder = "/usr/lib/x86_64-linux-gnu/janus/transports"\n events_folder = "/usr/lib/x86_64-linux-gnu/janus/events"\n loggers_folder = "/usr/lib/x86_64-linux-gnu/janus/loggers"\n debug_level = ${Number(process.env.CAUYTE_JANUS_DEBUG ?? 3)}\n session_timeout = 120\n}\nmedia: {\n rtp_port_range = "20000-40000"\n}\nnat: {\n nice_debug = false\n ice_lite = true\n}\nplugins: {\n disable = "libjanus_audiobridge.so,libjanus_echotest.so,libjanus_recordplay.so,libjanus_sip.so,libjanus_nosip.so,libjanus_streaming.so,libjanus_textroom.so,libjanus_videocall.so,libjanus_voicemail.so,libjanus_duktape.so,libjanus_lua.so"\n}\ntransports: {\n disable = "libjanus_websockets.so,libjanus_pfunix.so,libjanus_mqtt.so,libjanus_rabbitmq.so,libjanus_nanomsg.so"\n}\nevents: {\n broadcast = false\n}\n`,
    );
    write(
      'janus.transport.http.jcfg',
      `general: {\n json = "plain"\n base_path = "/janus"\n http = true\n port = ${port}\n ip = "127.0.0.1"\n https = false\n}\nadmin: {\n admin_http = false\n}\n`,
    );
    write('janus.plugin.videoroom.jcfg', `general: {\n}\n`);
  }

  /** A crash (drills): SIGKILL, and no restart. */
  kill(): void {
    this.child.kill();
  }

  /** Called when janus is up again after a crash: it came back empty (its rooms are gone). */
  set onRestart(fn: () => void) {
    this.child.onRestart = fn;
  }

  async stop(): Promise<void> {
    await this.child.stop();
  }
}

/** Janus for large sessions: JANUS_URL, or a supervised local janus, or none (mesh only). */
export async function startJanus(config: Config): Promise<{ instances: JanusInstance[]; supervisor?: JanusSupervisor; reason: string }> {
  const reason =
    'Phiên trên 4 người cần máy chủ truyền hình Janus: cài gói Debian `janus` (apt-get install janus) hoặc đặt JANUS_URL. ' +
    '(Sessions over 4 people need the Janus SFU: install the Debian package `janus` or set JANUS_URL.)';
  if (config.JANUS_URL) return { instances: config.JANUS_URL.split(',').map((u) => new JanusInstance(u.trim().replace(/\/$/, ''))), reason };
  if (config.CAUYTE_JANUS === 'off' || !JanusSupervisor.available(config.CAUYTE_JANUS_BINARY)) return { instances: [], reason };
  const supervisor = new JanusSupervisor(join(config.dataDir, 'janus'), config.CAUYTE_JANUS_BINARY, config.CAUYTE_JANUS_ICE);
  return { instances: [new JanusInstance(await supervisor.start())], supervisor, reason };
}
