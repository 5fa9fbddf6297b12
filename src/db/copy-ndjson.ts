/**
 * NDJSON straight out of PostgreSQL's COPY: `COPY (SELECT one_json_text_column …) TO … (${COPY_NDJSON})`
 * writes each row's value as it is, followed by "\n" — the bytes of a bulk export's file, with no
 * row object, parse, framing or string per resource in between. It is the CSV format with a
 * delimiter (0x01) and a quote character (0x02) that JSON text never holds raw: jsonb's text form
 * escapes every character below 0x20 (`\u0001`), has no raw newline, and is never empty, so
 * PostgreSQL quotes no value and escapes nothing (CSV mode leaves backslashes alone, unlike the
 * text format, which doubles each one).
 *
 * Where the COPY's whole output is in hand at once (PGlite's `/dev/blob`), the binary format
 * (`COPY_BINARY`) is cheaper for the database — no per-character quoting decision, which PGlite
 * makes in WebAssembly on the server's own thread (≈ 2× the time for the same rows, measured
 * 2026-12-01) — and `ndjsonFromBinary` takes each value out of its framing and ends it with "\n".
 *
 * Rules: only for one column of jsonb text (or text known to be one-line JSON). `NdjsonCheck`
 * checks the stream as it passes: a quote byte anywhere means a value was quoted (it is not the
 * NDJSON it should be) and is an error, never passed on; so is a stream not ending in "\n".
 * `ndjsonFromBinary` refuses anything but one non-null column per row, a value holding a raw
 * newline, and output cut short.
 */
import { Transform, type TransformCallback } from 'node:stream';

/** The COPY options that make a one-column COPY of JSON text an NDJSON stream. */
export const COPY_NDJSON = "FORMAT csv, DELIMITER E'\\x01', QUOTE E'\\x02'";

/** The COPY options for `ndjsonFromBinary`. */
export const COPY_BINARY = 'FORMAT binary';

const QUOTE = 0x02;
const NL = 0x0a;

/** Passes an NDJSON COPY stream on unchanged, checking it is one (see the header). */
export class NdjsonCheck extends Transform {
  private last = NL;

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    if (chunk.length === 0) return cb();
    if (chunk.indexOf(QUOTE) !== -1) return cb(new Error('a COPY value was quoted: not one-line JSON text'));
    this.last = chunk[chunk.length - 1];
    cb(null, chunk);
  }

  override _flush(cb: TransformCallback): void {
    cb(this.last === NL ? undefined : new Error('COPY stream ended inside a row'));
  }
}

/** An NDJSON COPY's whole output (PGlite's blob), checked the same way. */
export function checkNdjson(bytes: Buffer): Buffer {
  if (bytes.indexOf(QUOTE) !== -1) throw new Error('a COPY value was quoted: not one-line JSON text');
  if (bytes.length && bytes[bytes.length - 1] !== NL) throw new Error('COPY output ended inside a row');
  return bytes;
}

/** "PGCOPY\n\xff\r\n\0": the binary COPY format's signature. */
const SIGNATURE = Buffer.from('5047434f50590aff0d0a00', 'hex');

/**
 * NDJSON from a one-column binary COPY's whole output (see the header): each value, then "\n" —
 * written over the input in place (each row's 6 bytes of framing become 1 newline, so what is
 * written never overtakes what is still to be read); the input buffer is consumed.
 */
export function ndjsonFromBinary(bytes: Buffer): Buffer {
  if (bytes.length === 0) return bytes;
  const cut = () => new Error('binary COPY output cut short');
  if (bytes.length < 19 || !bytes.subarray(0, 11).equals(SIGNATURE)) throw new Error('not binary COPY output');
  let at = 19 + bytes.readUInt32BE(15); // flags, then the header extension's length and bytes
  let out = 0;
  let rows = 0;
  for (;;) {
    if (at + 2 > bytes.length) throw cut();
    const fields = bytes.readInt16BE(at);
    if (fields === -1) break;
    if (fields !== 1 || at + 6 > bytes.length) throw new Error('binary COPY: one column per row expected');
    const len = bytes.readInt32BE(at + 2);
    if (len < 0) throw new Error('binary COPY: a null value is not a line of JSON');
    at += 6;
    if (at + len > bytes.length) throw cut();
    out += bytes.copy(bytes, out, at, at + len);
    bytes[out++] = NL;
    at += len;
    rows++;
  }
  const ndjson = bytes.subarray(0, out);
  // A raw newline inside a value would make two lines of one: there must be exactly one per row.
  let lines = 0;
  for (let i = ndjson.indexOf(NL); i !== -1; i = ndjson.indexOf(NL, i + 1)) lines++;
  if (lines !== rows) throw new Error('binary COPY: a value holds a raw newline (not one-line JSON text)');
  return ndjson;
}
