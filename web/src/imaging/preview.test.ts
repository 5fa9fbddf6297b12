/**
 * The first-image preview (preview.ts) and the early request's header reading (early.ts), on the
 * synthetic CT series the tests upload (src/imaging/create.ts): every pixel's grey value is the
 * window-levelled value of the generator's known Hounsfield units (window 40/400, Cornerstone's
 * linear VOI), the status window matches the viewer's (C 39.5 → "40", W 399), MONOCHROME1 is
 * inverted, files without a window use min/max, and compressed files are left to the engine.
 */
import { describe, expect, it } from 'vitest';
import { syntheticSeries } from '../../../src/imaging/create.ts';
import { transferSyntaxOf } from './early.ts';
import { decodePreview, UNCOMPRESSED } from './preview.ts';

const ab = (b: Buffer) => b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;

/** Replaces the first occurrence of an ASCII value of the same length in a file (a test-only edit). */
function patch(b: Buffer, from: string, to: string): Buffer {
  expect(to.length).toBe(from.length);
  const out = Buffer.from(b);
  const at = out.indexOf(from, 0, 'latin1');
  expect(at).toBeGreaterThan(0);
  out.write(to, at, 'latin1');
  return out;
}

describe('first-image preview', () => {
  const size = 64;
  const series = syntheticSeries({ count: 3, size, spacing: 0.7 });
  const file = series.files[0];

  it('window-levels every pixel as the viewer does', () => {
    const img = decodePreview(ab(file))!;
    expect(img).toBeDefined();
    expect([img.rows, img.columns, img.rowSpacing, img.columnSpacing]).toEqual([size, size, 0.7, 0.7]);
    // WindowCenter 40, WindowWidth 400 → Cornerstone's linear range [-160, 239].
    expect([img.lower, img.upper]).toEqual([-160, 239]);
    const r = size * 0.2; // the generator's first slice (k = 0)
    for (let y = 0; y < size; y++)
      for (let x = 0; x < size; x++) {
        const d = Math.hypot(x - size / 2, y - size / 2);
        const hu = d < r ? 40 + ((x * 7 + y * 3) % 20) : d < r + 4 ? 700 : -1000;
        const expected = Math.round(((Math.min(239, Math.max(-160, hu)) + 160) * 255) / 399);
        expect(img.grey[y * size + x], `pixel ${x},${y}`).toBe(expected);
      }
    expect(img.grey[0]).toBe(0); // air
    expect(img.grey[(size / 2) * size + size / 2]).toBe(128); // 40 HU at the centre
  });

  it('inverts MONOCHROME1 and uses min/max without a window', () => {
    const mono1 = decodePreview(ab(patch(file, 'MONOCHROME2', 'MONOCHROME1')))!;
    expect(mono1.grey[0]).toBe(255);
    // No window: the copy's WindowCenter/Width tags are renumbered to (0028,1060/1061), which are not a window.
    const noWindow = Buffer.from(file);
    for (const tag of [0x1050, 0x1051]) {
      const key = Buffer.from([0x28, 0x00, tag & 0xff, tag >> 8]);
      const at = noWindow.indexOf(key);
      expect(at).toBeGreaterThan(0);
      noWindow.writeUInt16LE(0x1060 + (tag - 0x1050), at + 2);
    }
    const range = decodePreview(ab(noWindow))!;
    expect([range.lower, range.upper]).toEqual([-1000, 700]);
  });

  it('reads the transfer syntax from the first bytes and leaves compressed files to the engine', () => {
    expect(transferSyntaxOf(file.subarray(0, 100))).toBeUndefined();
    const ts = transferSyntaxOf(file.subarray(0, 400));
    expect(ts).toBe('1.2.840.10008.1.2.1');
    expect(UNCOMPRESSED.has(ts!)).toBe(true);
    const jpeg = patch(file, '1.2.840.10008.1.2.1\0', '1.2.840.10008.1.2.50');
    expect(transferSyntaxOf(jpeg)).toBe('1.2.840.10008.1.2.50');
    expect(decodePreview(ab(jpeg))).toBeUndefined();
  });
});
