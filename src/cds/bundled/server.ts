/**
 * The bundled CDS Hooks service as its own small Fastify app (its own process: started and
 * supervised by the platform, src/cds/supervisor.ts, or run alone with
 * `node --import tsx src/cds/bundled/server.ts`). It speaks CDS Hooks 2.0: discovery
 * (GET /cds-services), one POST per service, and the feedback endpoint; it keeps the feedback it
 * received (GET /feedback, for the operator and the tests). Every endpoint, GET /feedback too,
 * needs the CDS Client's signed JWT (client-auth.ts; CDS Hooks §Trusting CDS Clients): the client's
 * public key comes in CDS_CLIENT_JWK (with CDS_CLIENT_ISS) when run as a process.
 *
 * Rules: its only data is what a request brings (context and prefetch); it keeps no patient data
 * (feedback holds card ids, outcomes and reasons only). Listens on loopback; prints its address
 * as one line "cds-bundled listening <url>" so the supervisor can find it.
 */
import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyInstance } from 'fastify';
import { BUNDLED_SERVICES, type HookCall } from './services.ts';
import { requireClientJwt, type TrustedClient } from './client-auth.ts';

export interface FeedbackItem {
  service: string;
  card?: string;
  outcome?: string;
  overrideReason?: unknown;
  acceptedSuggestions?: unknown;
  at: string;
}

export function buildBundledServer(client: TrustedClient): { app: FastifyInstance; feedback: FeedbackItem[] } {
  const app = Fastify({ logger: false, bodyLimit: 2 * 1024 * 1024 });
  requireClientJwt(app, client);
  const feedback: FeedbackItem[] = [];
  app.get('/cds-services', async () => ({
    services: BUNDLED_SERVICES.map((s) => ({ id: s.id, hook: s.hook, title: s.title, description: s.description, prefetch: s.prefetch })),
  }));
  app.post<{ Params: { id: string }; Body: HookCall }>('/cds-services/:id', async (req, reply) => {
    const service = BUNDLED_SERVICES.find((s) => s.id === req.params.id);
    if (!service) return reply.code(404).send({ error: 'no such service' });
    const body = req.body;
    if (!body || typeof body !== 'object' || body.hook !== service.hook || typeof body.context !== 'object' || !body.context)
      return reply.code(400).send({ error: `expected a ${service.hook} request with a context` });
    return { cards: service.answer(body, randomUUID) };
  });
  app.post<{ Params: { id: string }; Body: { feedback?: Omit<FeedbackItem, 'service' | 'at'>[] } }>('/cds-services/:id/feedback', async (req, reply) => {
    if (!BUNDLED_SERVICES.some((s) => s.id === req.params.id)) return reply.code(404).send({ error: 'no such service' });
    for (const f of (req.body?.feedback ?? []).slice(0, 100)) {
      feedback.push({
        service: req.params.id,
        card: f.card,
        outcome: f.outcome,
        overrideReason: f.overrideReason,
        acceptedSuggestions: f.acceptedSuggestions,
        at: new Date().toISOString(),
      });
    }
    if (feedback.length > 1000) feedback.splice(0, feedback.length - 1000);
    return reply.code(200).send({});
  });
  app.get('/feedback', async () => feedback);
  return { app, feedback };
}

/** Run as a process: listen on loopback (PORT, 0 = any free port) and say where. */
export async function main(): Promise<void> {
  const jwk = process.env.CDS_CLIENT_JWK;
  const issuer = process.env.CDS_CLIENT_ISS;
  if (!jwk || !issuer) throw new Error('CDS_CLIENT_JWK and CDS_CLIENT_ISS are required (the CDS Client this service trusts)');
  const { app } = buildBundledServer({ jwk: JSON.parse(jwk), issuer });
  const url = await app.listen({ port: Number(process.env.PORT ?? 0), host: '127.0.0.1' });
  console.log(`cds-bundled listening ${url}`);
  const stop = () => void app.close().then(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  // The platform's end is ours too: when the parent goes, so do we.
  process.stdin.on('end', stop);
  process.stdin.resume();
}

if (import.meta.url === `file://${process.argv[1]}`) void main();
