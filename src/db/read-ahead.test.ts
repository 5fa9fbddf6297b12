/**
 * readAhead (read-ahead.ts): what is read while the consumer waits comes out first and whole; the
 * source pauses at the limit; an error before or after the release reaches the reader; destroy
 * sends nothing.
 */
import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { readAhead } from './read-ahead.ts';

const collect = async (r: Readable) => {
  const out: Buffer[] = [];
  for await (const c of r) out.push(c as Buffer);
  return Buffer.concat(out).toString();
};
const tick = () => new Promise((r) => setTimeout(r, 10));

describe('readAhead', () => {
  it('gives every byte in order: read ahead first, then the rest', async () => {
    const src = new PassThrough();
    const ahead = readAhead(src, 1 << 20);
    src.write('a\n');
    src.write('b\n');
    await tick();
    const body = ahead.release();
    src.write('c\n');
    src.end('d\n');
    expect(await collect(body)).toBe('a\nb\nc\nd\n');
  });

  it('pauses the source at the limit and goes on after the release', async () => {
    let pulled = 0;
    const src = new Readable({
      read() {
        pulled += 1;
        this.push(pulled <= 100 ? Buffer.alloc(1000, 'x') : null);
      },
    });
    const ahead = readAhead(src, 5000);
    await tick();
    // 5 chunks taken, then the source's own buffer (16 kB) fills: far from all 100.
    expect(pulled).toBeLessThan(40);
    expect((await collect(ahead.release())).length).toBe(100 * 1000);
  });

  it('hands an error of the source to the reader, before or after the release', async () => {
    const early = new PassThrough();
    const a = readAhead(early, 1 << 20);
    early.write('x\n');
    early.destroy(new Error('COPY failed early'));
    await tick();
    await expect(collect(a.release())).rejects.toThrow('COPY failed early');

    const late = new PassThrough();
    const b = readAhead(late, 1 << 20);
    const body = b.release();
    late.write('x\n');
    setTimeout(() => late.destroy(new Error('COPY failed late')), 5);
    await expect(collect(body)).rejects.toThrow('COPY failed late');
  });

  it('destroy drops the source and what was read', async () => {
    const src = new PassThrough();
    const a = readAhead(src, 1 << 20);
    src.write('secret\n');
    await tick();
    a.destroy();
    expect(src.destroyed).toBe(true);
  });
});
