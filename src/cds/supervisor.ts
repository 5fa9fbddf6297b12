/**
 * Starts and supervises the bundled CDS Hooks service (src/cds/bundled/server.ts) as its own
 * process on loopback — like Janus and Orthanc (src/video/janus.ts, src/imaging/orthanc.ts):
 * its address is read from the line it prints, it is restarted if it dies, and it ends with the
 * platform (SIGTERM at close; its stdin closes if the platform is killed).
 *
 * Rules: the child runs the TypeScript source through tsx, as `cauyte` itself does; it gets no
 * database address, no secret and no configuration of the platform — its environment is PATH,
 * NODE_ENV, PORT=0 and the CDS Client's public key and issuer (CDS_CLIENT_JWK, CDS_CLIENT_ISS), which
 * it requires on every request.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { TrustedClient } from './bundled/client-auth.ts';

const SERVER = fileURLToPath(new URL('./bundled/server.ts', import.meta.url));

export class BundledSupervisor {
  private child?: ChildProcess;

  constructor(private readonly client: TrustedClient) {}

  private stopping = false;
  url?: string;

  /** Starts the process; resolves with its base URL (or rejects after 30 s). */
  async start(): Promise<string> {
    this.stopping = false;
    const child = spawn(process.execPath, ['--import', 'tsx', SERVER], {
      stdio: ['pipe', 'pipe', 'inherit'],
      env: {
        PATH: process.env.PATH ?? '',
        NODE_ENV: process.env.NODE_ENV ?? 'production',
        PORT: '0',
        CDS_CLIENT_JWK: JSON.stringify(this.client.jwk),
        CDS_CLIENT_ISS: this.client.issuer,
      },
    });
    this.child = child;
    const url = await new Promise<string>((resolve, reject) => {
      let out = '';
      const timer = setTimeout(() => reject(new Error('The bundled CDS service did not start within 30 s')), 30_000);
      child.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const m = /cds-bundled listening (http:\/\/\S+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`The bundled CDS service exited (${code})`));
      });
    });
    this.url = url;
    child.once('exit', () => {
      this.url = undefined;
      if (!this.stopping) setTimeout(() => void this.start().catch(() => undefined), 1000).unref();
    });
    return url;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        resolve();
      }, 3000);
      child.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      child.kill('SIGTERM');
    });
  }
}
