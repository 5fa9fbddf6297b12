/**
 * Lines out of a PostgreSQL `COPY (SELECT one_text_column …) TO STDOUT (FORMAT binary)` stream:
 * each row's value as it is, followed by "\n" — the NDJSON of a bulk export without a row object,
 * a parse or a string per resource in between. Binary, not text format: the text format escapes
 * every backslash (and JSON text has many: `\"`, `\n`), which would then have to be undone byte by
 * byte; the binary format frames each value with its length and leaves the bytes alone.
 *
 * Rules: exactly one column per row (anything else is an error, never silently skipped); a NULL
 * value is an error; the caller guarantees a value holds no newline (jsonb's text form never does).
 * Chunk boundaries may fall anywhere (inside a frame or a value). Output chunks never exceed the
 * input chunk they come from by more than one byte per row, so memory stays bounded.
 */
import { Transform, type TransformCallback } from 'node:stream';

const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');
const NL = 0x0a;

/** Binary COPY of one text column → NDJSON bytes; `rows` counts the rows seen. */
export class CopyLines extends Transform {
  rows = 0;
  /** Header not yet read (needs 19 bytes + extension). */
  private header = true;
  /** Bytes of a frame (header, tuple field count + length) split across chunks. */
  private pending: Buffer = Buffer.alloc(0);
  /** Bytes of the current value still to copy (0 = at a frame). */
  private valueLeft = 0;
  private done = false;

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    try {
      this.consume(this.pending.length ? Buffer.concat([this.pending, chunk]) : chunk);
      cb();
    } catch (e) {
      cb(e as Error);
    }
  }

  override _flush(cb: TransformCallback): void {
    if (!this.done || this.pending.length || this.valueLeft) cb(new Error('COPY stream ended inside a row'));
    else cb();
  }

  private consume(buf: Buffer): void {
    this.pending = Buffer.alloc(0);
    let i = 0;
    if (this.header) {
      if (buf.length < 19) return void (this.pending = buf);
      if (!buf.subarray(0, 11).equals(SIGNATURE)) throw new Error('not a binary COPY stream');
      const ext = buf.readUInt32BE(15);
      if (buf.length < 19 + ext) return void (this.pending = buf);
      i = 19 + ext;
      this.header = false;
    }
    // A row loses its 6 framing bytes and gains one "\n": the output of a chunk fits in its length.
    let out = Buffer.allocUnsafe(buf.length + 1);
    let o = 0;
    const flushOut = () => {
      if (o) this.push(out.subarray(0, o));
      out = Buffer.allocUnsafe(buf.length + 1);
      o = 0;
    };
    while (i < buf.length) {
      if (this.valueLeft > 0) {
        const n = Math.min(this.valueLeft, buf.length - i);
        if (o + n + 1 > out.length) flushOut();
        buf.copy(out, o, i, i + n);
        o += n;
        i += n;
        this.valueLeft -= n;
        if (this.valueLeft === 0) out[o++] = NL;
        continue;
      }
      if (this.done) throw new Error('data after the end of a COPY stream');
      if (buf.length - i < 2) break;
      const fields = buf.readInt16BE(i);
      if (fields === -1) {
        this.done = true;
        i += 2;
        continue;
      }
      if (fields !== 1) throw new Error(`expected one column per row, got ${fields}`);
      if (buf.length - i < 6) break;
      const len = buf.readInt32BE(i + 2);
      if (len < 0) throw new Error('a NULL value in an export');
      i += 6;
      this.rows++;
      this.valueLeft = len;
      if (len === 0) {
        if (o + 1 > out.length) flushOut();
        out[o++] = NL;
      }
    }
    if (i < buf.length) this.pending = Buffer.from(buf.subarray(i));
    if (o) this.push(out.subarray(0, o));
  }
}
