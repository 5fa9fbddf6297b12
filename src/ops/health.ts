/**
 * Liveness and readiness.
 *   /healthz — the process is alive and its event loop answers (no dependency is checked: a
 *              load balancer or systemd must not restart a node because the database is down);
 *   /readyz  — this node can serve: the database answers, the MQTT broker it ingests from takes
 *              connections, and every Janus it uses answers /info. 503 while any is down and while
 *              the node drains for shutdown, so HAProxy stops sending it new requests.
 * Each check has a deadline; the answer lists each component's state and how long it took (no
 * addresses, credentials or data).
 */
import { connect } from 'node:net';

export interface CheckResult {
  status: 'up' | 'down';
  ms: number;
  error?: string;
}

export type Check = () => Promise<void>;

export async function timed(check: Check, deadlineMs = 2000): Promise<CheckResult> {
  const t0 = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      check(),
      new Promise((_r, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${deadlineMs} ms`)), deadlineMs);
      }),
    ]);
    return { status: 'up', ms: Math.round(performance.now() - t0) };
  } catch (err) {
    // The message of a failed check names the kind of failure only (e.g. ECONNREFUSED), never the target.
    const e = err as NodeJS.ErrnoException;
    return { status: 'down', ms: Math.round(performance.now() - t0), error: e.code ?? e.message.slice(0, 120) };
  } finally {
    clearTimeout(timer);
  }
}

/** A TCP connection to host:port opens (the MQTT broker takes connections). */
export function tcpCheck(host: string, port: number): Check {
  return () =>
    new Promise<void>((resolve, reject) => {
      const s = connect({ host, port });
      s.once('connect', () => {
        s.destroy();
        resolve();
      });
      s.once('error', (err) => {
        s.destroy();
        reject(err);
      });
    });
}

export interface Readiness {
  status: 'ready' | 'not-ready' | 'draining';
  checks: Record<string, CheckResult>;
}

export async function readiness(checks: Record<string, Check>, draining: boolean): Promise<Readiness> {
  const names = Object.keys(checks);
  const results = await Promise.all(names.map((n) => timed(checks[n])));
  const out: Record<string, CheckResult> = {};
  names.forEach((n, i) => (out[n] = results[i]));
  const allUp = results.every((r) => r.status === 'up');
  return { status: draining ? 'draining' : allUp ? 'ready' : 'not-ready', checks: out };
}
