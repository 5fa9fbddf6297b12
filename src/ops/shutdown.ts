/**
 * Graceful shutdown of a serving node (SIGTERM / SIGINT):
 *   1. drain: /readyz answers 503 at once, so HAProxy (checking every second) takes the node out
 *      of rotation while it still answers the requests already sent to it;
 *   2. after the grace period, close the app: Fastify stops accepting connections, lets requests
 *      in flight finish (new ones on kept-alive connections get 503), then runs every plugin's
 *      onClose — video rooms tell their members the server is going away (WebSocket close 1001,
 *      the web app reconnects through the load balancer to another node), the MQTT broker stops,
 *      the device ingest queue and the outbox drain, the audit sealer seals what was committed;
 *   3. a hard deadline: if closing hangs, the process exits non-zero (systemd restarts it).
 */
import type { FastifyBaseLogger } from 'fastify';

export interface Drainable {
  app: { ops: { draining: boolean }; log: FastifyBaseLogger };
  close(): Promise<void>;
}

export async function gracefulShutdown(p: Drainable, opts: { graceMs: number; deadlineMs: number; exit?: (code: number) => void }): Promise<void> {
  const exit = opts.exit ?? ((code: number) => process.exit(code));
  p.app.ops.draining = true;
  p.app.log.info({ graceMs: opts.graceMs }, 'draining: readiness now fails; closing after the grace period');
  const deadline = setTimeout(() => {
    p.app.log.error({ deadlineMs: opts.deadlineMs }, 'shutdown took too long; exiting');
    exit(1);
  }, opts.graceMs + opts.deadlineMs);
  deadline.unref();
  await new Promise((resolve) => setTimeout(resolve, opts.graceMs));
  await p.close();
  clearTimeout(deadline);
  exit(0);
}
