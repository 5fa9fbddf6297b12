/**
 * CopyLines: a binary COPY stream of one text column becomes one line per row, whatever the chunk
 * boundaries (inside the header, a frame or a value); a second column, a NULL or a stream cut
 * inside a row is an error.
 */
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { CopyLines } from './copy-lines.ts';

const header = Buffer.concat([Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'), Buffer.alloc(8)]);
const row = (...values: (string | null)[]) => {
  const parts = [Buffer.alloc(2)];
  parts[0].writeInt16BE(values.length);
  for (const v of values) {
    const len = Buffer.alloc(4);
    len.writeInt32BE(v === null ? -1 : Buffer.byteLength(v));
    parts.push(len, v === null ? Buffer.alloc(0) : Buffer.from(v));
  }
  return Buffer.concat(parts);
};
const trailer = Buffer.from([0xff, 0xff]);

async function run(stream: Buffer, chunk: number): Promise<string> {
  const chunks: Buffer[] = [];
  for (let i = 0; i < stream.length; i += chunk) chunks.push(stream.subarray(i, i + chunk));
  const out: Buffer[] = [];
  for await (const b of Readable.from(chunks).pipe(new CopyLines())) out.push(b as Buffer);
  return Buffer.concat(out).toString();
}

describe('CopyLines', () => {
  const values = ['{"a":"b\\"c\\\\n"}', '{"name":"Nguyễn Văn Ả"}', '', '{"x":1}'];
  const stream = Buffer.concat([header, ...values.map((v) => row(v)), trailer]);
  it.each([1, 2, 3, 7, 19, 64, 100_000])('gives one line per row with chunks of %i bytes', async (n) => {
    expect(await run(stream, n)).toBe(values.map((v) => `${v}\n`).join(''));
  });
  it('refuses two columns, a NULL, and a stream cut inside a row', async () => {
    await expect(run(Buffer.concat([header, row('a', 'b'), trailer]), 5)).rejects.toThrow(/one column/);
    await expect(run(Buffer.concat([header, row(null), trailer]), 5)).rejects.toThrow(/NULL/);
    await expect(run(Buffer.concat([header, row('{"a":1}').subarray(0, 9)]), 5)).rejects.toThrow(/inside a row/);
  });
});
