/**
 * The request log: quiet at `info`. Fastify's default writes two lines per request ("incoming
 * request", "request completed") at info, which buries the start banner and the demo sign-in
 * help. Here a request is one line at `debug` (method, path without the query, status, time);
 * requests that fail with an error (5xx, a broken response) still log at `error`/`warn` — an
 * operator must see those at any level.
 *
 * Rules: never log the query string (names, identifiers) or headers (credentials).
 */
import { LogController, type FastifyReply, type FastifyRequest } from 'fastify';

const line = (req: FastifyRequest, reply: FastifyReply) => ({
  method: req.method,
  path: (req.url ?? '').split('?')[0],
  status: reply.statusCode,
  ms: Math.round(reply.elapsedTime),
});

export class QuietAccessLog extends LogController {
  override incomingRequest(): void {}

  override requestCompleted(error: Error | null | undefined, req: FastifyRequest, reply: FastifyReply): void {
    if (error) reply.log.error({ ...line(req, reply), err: error }, 'request errored');
    else reply.log.debug(line(req, reply), 'request');
  }

  override defaultErrorLog(error: Error, req: FastifyRequest, reply: FastifyReply): void {
    if (reply.statusCode >= 500) reply.log.error({ ...line(req, reply), err: error }, error?.message);
    else reply.log.debug({ ...line(req, reply), err: error?.message }, 'request refused');
  }

  override routeNotFound(req: FastifyRequest): void {
    req.log.debug({ method: req.method, path: (req.url ?? '').split('?')[0] }, 'route not found');
  }
}
