/**
 * Splits a multipart/related body (RFC 2387, as DICOMweb STOW-RS sends it) into its parts' bytes.
 * Rules: the boundary comes from the Content-Type; part headers are skipped; a body without a
 * single well-formed part is refused.
 */
import { badRequest } from '../fhir/outcome.ts';

export function boundaryOf(contentType: string): string {
  const m = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  if (!m) throw badRequest('multipart/related thiếu boundary (missing boundary)');
  return m[1] ?? m[2];
}

export function splitMultipart(body: Buffer, contentType: string): Buffer[] {
  const delimiter = Buffer.from(`--${boundaryOf(contentType)}`);
  const parts: Buffer[] = [];
  let pos = body.indexOf(delimiter);
  while (pos !== -1) {
    const afterDelim = pos + delimiter.length;
    if (body.subarray(afterDelim, afterDelim + 2).toString('latin1') === '--') break; // closing delimiter
    const headerEnd = body.indexOf('\r\n\r\n', afterDelim);
    if (headerEnd === -1) break;
    const next = body.indexOf(delimiter, headerEnd + 4);
    if (next === -1) break;
    // The part ends before the CRLF that precedes the next delimiter.
    const end = body[next - 2] === 0x0d && body[next - 1] === 0x0a ? next - 2 : next;
    parts.push(body.subarray(headerEnd + 4, end));
    pos = next;
  }
  if (parts.length === 0) throw badRequest('Không đọc được multipart/related (no parts)');
  return parts;
}
