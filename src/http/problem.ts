/** A JSON problem (RFC 9457): the error body of every non-FHIR route. */
export function problem(status: number, title: string, detail?: string) {
  return { type: 'about:blank', title, status, ...(detail ? { detail } : {}) };
}
