/**
 * Reading a stream ahead while its consumer is not allowed to see it yet. A bulk export file's
 * COPY starts beside the statement that writes its audit row; until that row has committed nothing
 * may be sent, but the COPY need not stand still: its output is taken into memory (at most `limit`
 * bytes, then the source is paused and the database waits as it would for a slow client).
 *
 * Rules: `release()` gives one stream with what was read first and then the rest, with ordinary
 * backpressure from there on; an error of the source, before or after, reaches that stream's
 * reader; `destroy()` drops everything (the source too) — nothing read ahead is ever sent then.
 */
import { Readable } from 'node:stream';

export interface ReadAhead {
  /** The whole stream, from its first byte; call once. */
  release(): Readable;
  /** Drops the stream and what was read of it. */
  destroy(): void;
}

export function readAhead(src: Readable, limit: number): ReadAhead {
  const chunks: Buffer[] = [];
  let bytes = 0;
  let failed: Error | undefined;
  const onData = (c: Buffer) => {
    chunks.push(c);
    bytes += c.length;
    if (bytes >= limit) src.pause();
  };
  const onError = (e: Error) => {
    failed ??= e;
  };
  src.on('data', onData);
  src.on('error', onError);
  const stop = () => {
    // Paused before the listener goes: a flowing stream with no 'data' listener would lose chunks.
    src.pause();
    src.off('data', onData);
  };
  return {
    release() {
      stop();
      async function* all(): AsyncGenerator<Buffer> {
        if (failed) throw failed;
        yield* chunks.splice(0);
        src.off('error', onError);
        for await (const c of src) yield c as Buffer;
      }
      return Readable.from(all(), { objectMode: false });
    },
    destroy() {
      stop();
      chunks.length = 0;
      src.destroy();
    },
  };
}
