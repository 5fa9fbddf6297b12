/** Talking to the FHIR API: JSON in, readable errors out (an OperationOutcome becomes its message). */
import type { Bundle, OperationOutcome, Resource } from '@medplum/fhirtypes';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export async function fhirGet<T = Resource>(path: string): Promise<T> {
  let res: Response;
  try {
    res = await fetch(`/fhir/R4/${path}`, { headers: { accept: 'application/fhir+json' }, credentials: 'same-origin' });
  } catch {
    throw new ApiError(0, navigator.onLine ? 'Không kết nối được máy chủ (cannot reach the server)' : 'Đang mất kết nối mạng (offline)');
  }
  const body = await res.json().catch(() => undefined);
  if (!res.ok) {
    const outcome = body as OperationOutcome | undefined;
    const text = outcome?.issue?.map((i) => i.details?.text ?? i.diagnostics).join('; ') || `HTTP ${res.status}`;
    throw new ApiError(res.status, text);
  }
  return body as T;
}

export function entries<T extends Resource>(b: Bundle, type?: string): T[] {
  return (b.entry ?? []).map((e) => e.resource as T).filter((r) => r && (!type || r.resourceType === type));
}
