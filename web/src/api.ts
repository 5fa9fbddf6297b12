/** Talking to the server: JSON in, readable errors out (an OperationOutcome or problem becomes its message). */
import type { Bundle, OperationOutcome, Resource } from '@medplum/fhirtypes';
import type { AccessProblem, BreakGlassCoding } from '../../src/auth/contract.ts';
import { csrfToken, onSignedOut } from './session.ts';

/** The code of the coding by which a FHIR refusal says emergency access would open the record. */
const BREAK_GLASS: BreakGlassCoding['code'] = 'break-glass-available';
const ROLE_REFUSED = 'Vai trò của bạn không được dùng chức năng này (your role may not use this)';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** The server says emergency access (break-the-glass) would open this record. */
    readonly breakGlass = false,
  ) {
    super(message);
  }
}

/** bare: no headers of our own (a GET that takes over an answer the browser preloaded). */
async function request(method: string, url: string, body?: unknown, bare = false): Promise<Response> {
  const headers: Record<string, string> = bare ? {} : { accept: 'application/fhir+json, application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrfToken.value) headers['x-csrf-token'] = csrfToken.value;
  try {
    return await fetch(url, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), credentials: 'same-origin' });
  } catch {
    throw new ApiError(0, navigator.onLine ? 'Không kết nối được máy chủ (cannot reach the server)' : 'Đang mất kết nối mạng (offline)');
  }
}

async function parse<T>(res: Response): Promise<T> {
  const body = await res.json().catch(() => undefined);
  if (res.ok) return body as T;
  if (res.status === 401) onSignedOut();
  // A FHIR route refuses with an OperationOutcome, any other with a JSON problem.
  const outcome = body as (OperationOutcome & Partial<AccessProblem>) | undefined;
  const text = outcome?.issue?.map((i) => i.details?.text ?? i.diagnostics).join('; ') || outcome?.title || `HTTP ${res.status}`;
  const glass = !!outcome?.issue?.some((i) => i.details?.coding?.some((c) => c.code === BREAK_GLASS)) || !!outcome?.breakGlass;
  // A role refusal names the role and permission codes for the audit trail; a person reads words.
  if (res.status === 403 && /not allowed for this role/.test(text)) throw new ApiError(403, ROLE_REFUSED, glass);
  throw new ApiError(res.status, text, glass);
}

export async function fhirGet<T = Resource>(path: string): Promise<T> {
  return parse<T>(await request('GET', `/fhir/R4/${path}`));
}

export async function apiGet<T>(path: string): Promise<T> {
  return parse<T>(await request('GET', path));
}

/**
 * The same read without an Accept header of its own, so that it takes over an answer the browser
 * preloaded from a `Link: rel=preload; as=fetch` hint (src/http/web.ts) rather than asking again.
 */
export async function apiGetPreloaded<T>(path: string): Promise<T> {
  return parse<T>(await request('GET', path, undefined, true));
}

export async function apiSend<T>(method: 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown): Promise<T> {
  return parse<T>(await request(method, path, body ?? {}));
}

export function entries<T extends Resource>(b: Bundle, type?: string): T[] {
  return (b.entry ?? []).map((e) => e.resource as T).filter((r) => r && (!type || r.resourceType === type));
}
