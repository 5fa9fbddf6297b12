/**
 * NDJSON straight out of PostgreSQL's COPY: `COPY (SELECT one_json_text_column …) TO … (${COPY_NDJSON})`
 * writes each row's value as it is, followed by "\n" — the bytes of a bulk export's file, with no
 * row object, parse, framing or string per resource in between. It is the CSV format with a
 * delimiter (0x01) and a quote character (0x02) that JSON text never holds raw: jsonb's text form
 * escapes every character below 0x20 (`\u0001`), has no raw newline, and is never empty, so
 * PostgreSQL quotes no value and escapes nothing (CSV mode leaves backslashes alone, unlike the
 * text format, which doubles each one).
 *
 * Rules: only for one column of jsonb text (or text known to be one-line JSON). `NdjsonCheck`
 * checks the stream as it passes: a quote byte anywhere means a value was quoted (it is not the
 * NDJSON it should be) and is an error, never passed on; so is a stream not ending in "\n".
 */
import { Transform, type TransformCallback } from 'node:stream';

/** The COPY options that make a one-column COPY of JSON text an NDJSON stream. */
export const COPY_NDJSON = "FORMAT csv, DELIMITER E'\\x01', QUOTE E'\\x02'";

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
