/**
 * Request ids for structured logs: every log line of a request carries `reqId`, and the answer
 * carries `X-Request-Id`. A well-formed id from the load balancer (HAProxy's unique-id) is kept so
 * one request can be followed from HAProxy's log to the node's; anything else is replaced.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

const WELL_FORMED = /^[A-Za-z0-9._:-]{8,64}$/;

export function requestId(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && WELL_FORMED.test(given) ? given : randomUUID();
}
