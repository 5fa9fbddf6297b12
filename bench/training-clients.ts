/**
 * The participants of the `training` bench suite, in a child process of their own so that the
 * server's process measures only the server: the teacher and the simulated bridge points speak
 * the room page's signalling protocol over WebSocket (open the session's room as the learning page
 * does, read it as the room page does, connect, wait for `welcome`, keep alive with `ping`), and
 * one real Chromium joins through the room page with its fake camera (publishing through Janus).
 *
 * Driven over the IPC channel by bench/training.ts: `join` → { joinMs, parts (open, read, socket), browserMs }, then `end`
 * (the teacher ends the room for everyone) → { ended }. Nothing here measures CPU.
 */
import type { Browser } from 'playwright-core';
import WebSocket from 'ws';
import { launchBrowser } from '../src/testing/browser.ts';

export interface ClientPlan {
  base: string;
  appointmentId: string;
  teacher: Record<string, string>;
  /** Cookie + CSRF headers of each simulated bridge point's clinician. */
  sites: Record<string, string>[];
  /** The real browser's clinician (cookie + CSRF headers). */
  browser: Record<string, string>;
}

type Msg = { type: string; [k: string]: unknown };

class SimClient {
  ws?: WebSocket;
  private pinger?: NodeJS.Timeout;
  readonly ended: Promise<void>;
  wasEnded = false;
  private onEnded!: () => void;

  constructor(
    private readonly plan: ClientPlan,
    private readonly headers: Record<string, string>,
  ) {
    this.ended = new Promise((r) => (this.onEnded = () => ((this.wasEnded = true), r())));
  }

  /** As the learning page and then the room page: find the room, read it, connect; resolves on `welcome`. */
  async join(): Promise<{ roomId: string; ms: number; parts: [number, number, number] }> {
    const t0 = performance.now();
    const res = await fetch(`${this.plan.base}/api/video/rooms`, {
      method: 'POST',
      headers: { ...this.headers, 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'session', appointmentId: this.plan.appointmentId }),
    });
    if (res.status !== 200 && res.status !== 201) throw new Error(`open room: ${res.status} ${await res.text()}`);
    const roomId = ((await res.json()) as { id: string }).id;
    const t1 = performance.now();
    const info = await fetch(`${this.plan.base}/api/video/rooms/${roomId}`, { headers: this.headers });
    if (info.status !== 200) throw new Error(`read room: ${info.status}`);
    await info.arrayBuffer();
    const t2 = performance.now();
    const ws = (this.ws = new WebSocket(`${this.plan.base.replace(/^http/, 'ws')}/api/video/rooms/${roomId}/ws`, {
      headers: { cookie: this.headers.cookie },
    }));
    await new Promise<void>((resolve, reject) => {
      ws.on('message', (data) => {
        const m = JSON.parse(String(data)) as Msg;
        if (m.type === 'welcome') resolve();
        else if (m.type === 'refused') reject(new Error(`refused: ${String(m.message)}`));
        else if (m.type === 'ended') this.onEnded();
      });
      ws.on('error', reject);
      ws.on('close', (code) => reject(new Error(`closed before welcome (${code})`)));
    });
    const t3 = performance.now();
    const ms = t3 - t0;
    this.pinger = setInterval(() => this.send({ type: 'ping' }), 20_000);
    this.send({ type: 'media', audio: true, video: false, screen: false, audioOnly: true, quality: 'good' });
    return { roomId, ms, parts: [t1 - t0, t2 - t1, t3 - t2] };
  }

  send(m: Msg): void {
    this.ws?.send(JSON.stringify(m));
  }

  close(): void {
    clearInterval(this.pinger);
    this.ws?.close();
  }
}

let plan: ClientPlan;
let teacher: SimClient;
let sites: SimClient[] = [];
let browser: Browser | undefined;

async function joinAll(): Promise<{ joinMs: number[]; parts: [number, number, number][]; browserMs: number }> {
  // Chromium starts before the room opens: the session as held runs from the room's opening.
  browser = await launchBrowser({ media: true });
  const ctx = await browser.newContext({ viewport: { width: 900, height: 700 } });
  await ctx.addCookies([{ name: 'cy_session', value: /cy_session=([^;]+)/.exec(plan.browser.cookie)![1], url: plan.base }]);
  const page = await ctx.newPage();
  await page.goto(`${plan.base}/training`);
  await page.getByRole('heading').first().waitFor();
  teacher = new SimClient(plan, plan.teacher);
  const { roomId } = await teacher.join();
  await page.goto(`${plan.base}/call/${roomId}`);
  await page.getByRole('button', { name: /^(Vào phòng|Join)$/ }).waitFor();
  await page.waitForFunction(() => !(document.querySelector('.precall button.primary') as HTMLButtonElement | null)?.disabled);
  sites = plan.sites.map((h) => new SimClient(plan, h));
  // Everyone at once, as at the start of a weekly session: the simulated sites and the browser's click on "join".
  const browserJoin = (async () => {
    const t0 = performance.now();
    await page.locator('.precall button.primary').click();
    await page.waitForFunction(() => window.__call?.me.value?.id, undefined, { timeout: 60_000 });
    return performance.now() - t0;
  })();
  const joins = await Promise.all(sites.map((s) => s.join()));
  return { joinMs: joins.map((j) => j.ms), parts: joins.map((j) => j.parts), browserMs: await browserJoin };
}

async function endAll(): Promise<{ ended: number }> {
  teacher.send({ type: 'end' });
  await Promise.race([Promise.all(sites.map((s) => s.ended)), new Promise((r) => setTimeout(r, 15_000))]);
  const ended = sites.filter((s) => s.wasEnded).length;
  for (const s of [teacher, ...sites]) s.close();
  await browser?.close();
  return { ended };
}

process.on('message', (msg: { cmd: 'join' | 'end'; plan?: ClientPlan }) => {
  const run = msg.cmd === 'join' ? ((plan = msg.plan!), joinAll()) : endAll();
  run.then(
    (result) => process.send!({ ok: true, result }),
    (err: Error) => process.send!({ ok: false, error: err.stack ?? err.message }),
  );
});
