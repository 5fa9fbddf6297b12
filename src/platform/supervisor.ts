/**
 * A supervised child: a Debian binary (janus, Orthanc) the platform starts on a free loopback port
 * with a configuration it generates, keeps running and stops. One piece for every such service:
 *   - start(): a free loopback port, the service's configuration written for it, the binary
 *     spawned, a pid file in its folder, then its readiness URL asked until it answers;
 *   - a child that dies is started again after a second (same port, same configuration), and
 *     onRestart is called once it answers;
 *   - a child left running by a server that was SIGKILLed (its pid file, and /proc says the
 *     process is ours: its command line names our folder) is stopped before a new one starts;
 *   - stop(): SIGTERM, then SIGKILL after a grace period; kill(): a crash for drills (no restart).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

export async function freeLoopbackPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

export interface ChildSpec {
  /** Names the pid file (`<name>.pid`) and the messages. */
  name: string;
  /** The child's own folder (configuration, pid file, logs, data); its command line must name it. */
  dir: string;
  binary: string;
  /** Writes the configuration for this port into `dir`; returns the arguments to start the binary with. */
  configure(port: number): string[];
  /** Answers 2xx once the child is up. */
  readyUrl(port: number): string;
  readyHeaders?: Record<string, string>;
  /** How long the child may take to answer after it is spawned. */
  startMs: number;
  /** How long stop() waits after SIGTERM before SIGKILL. */
  stopMs: number;
}

export class Supervisor {
  private child?: ChildProcess;
  private stopping = false;
  private args: string[] = [];
  port?: number;
  /** Called each time the child is up again after it died (a new process: whatever it held in memory is gone). */
  onRestart?: () => void;

  constructor(private readonly spec: ChildSpec) {}

  /** Starts the child; resolves with its port once it answers. */
  async start(): Promise<number> {
    mkdirSync(this.spec.dir, { recursive: true });
    this.port = await freeLoopbackPort();
    this.args = this.spec.configure(this.port);
    await this.spawn();
    return this.port;
  }

  /** The process left by a server that was killed, if our pid file names one that is ours. */
  private killStale(): void {
    const pidFile = join(this.spec.dir, `${this.spec.name}.pid`);
    if (!existsSync(pidFile)) return;
    const pid = Number(readFileSync(pidFile, 'utf8').trim());
    try {
      if (pid > 0 && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(this.spec.dir)) process.kill(pid, 'SIGKILL');
    } catch {
      // gone already
    }
  }

  private async spawn(): Promise<void> {
    this.killStale();
    const child = spawn(this.spec.binary, this.args, { stdio: 'ignore' });
    this.child = child;
    if (child.pid) writeFileSync(join(this.spec.dir, `${this.spec.name}.pid`), String(child.pid));
    child.on('exit', () => {
      if (!this.stopping && this.child === child)
        setTimeout(
          () =>
            void this.spawn().then(
              () => this.onRestart?.(),
              () => undefined,
            ),
          1000,
        );
    });
    const deadline = Date.now() + this.spec.startMs;
    for (;;) {
      try {
        const r = await fetch(this.spec.readyUrl(this.port!), { headers: this.spec.readyHeaders });
        if (r.ok) return;
      } catch {
        // not up yet
      }
      if (Date.now() > deadline) throw new Error(`${this.spec.name} did not start (see ${this.spec.dir})`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** A crash (drills): SIGKILL, and no restart. */
  kill(): void {
    this.stopping = true;
    this.child?.kill('SIGKILL');
  }

  async stop(): Promise<void> {
    this.stopping = true;
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, this.spec.stopMs))]);
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
}
