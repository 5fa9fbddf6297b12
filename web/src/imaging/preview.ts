/**
 * The first image, drawn before the viewer engine is there: on a weak link Cornerstone's code
 * (≈ 480 kB gzip) takes seconds more than the first image's bytes (early.ts). When those bytes are
 * uncompressed (Explicit or Implicit VR Little Endian) they are parsed here with `dicom-parser`
 * and window-levelled into a canvas that covers the viewer, fitted and windowed as the viewer will
 * show them; the engine then takes over (StudyPage.tsx) with the same image and window.
 *
 * Rules: a small lazy chunk (dicom-parser only, no Cornerstone); anything it does not handle
 * (compressed, colour, more than one frame, bits other than 8/16) gives `undefined` and the page
 * simply waits for the engine. The window follows Cornerstone's (`toLowHighRange`, linear VOI;
 * min/max of the rescaled values when the file has no window), so the status and the picture do
 * not jump at the handover.
 */
import * as dicomParser from 'dicom-parser';

/** Transfer syntaxes drawn here: Implicit VR Little Endian, Explicit VR Little Endian. */
export const UNCOMPRESSED = new Set(['1.2.840.10008.1.2', '1.2.840.10008.1.2.1']);

export interface PreviewImage {
  rows: number;
  columns: number;
  /** Millimetres between rows and between columns (1 when the file has none). */
  rowSpacing: number;
  columnSpacing: number;
  /** The VOI range, as Cornerstone keeps it; the status shows its centre and width. */
  lower: number;
  upper: number;
  /** One grey byte per pixel, window-levelled (MONOCHROME1 already inverted), row by row. */
  grey: Uint8ClampedArray;
}

/** Parses a Part 10 file and window-levels its pixels; undefined when it is not one this preview handles. */
export function decodePreview(buf: ArrayBuffer): PreviewImage | undefined {
  let ds: dicomParser.DataSet;
  try {
    ds = dicomParser.parseDicom(new Uint8Array(buf));
  } catch {
    return undefined;
  }
  const ts = ds.string('x00020010')?.replace(/\0/g, '').trim();
  const photometric = ds.string('x00280004')?.trim();
  const rows = ds.uint16('x00280010') ?? 0;
  const columns = ds.uint16('x00280011') ?? 0;
  const bits = ds.uint16('x00280100');
  const signed = ds.uint16('x00280103') === 1;
  const frames = Number(ds.string('x00280008') ?? '1') || 1;
  const px = ds.elements.x7fe00010;
  if (!ts || !UNCOMPRESSED.has(ts) || (photometric !== 'MONOCHROME1' && photometric !== 'MONOCHROME2')) return undefined;
  if ((ds.uint16('x00280002') ?? 1) !== 1 || frames !== 1 || (bits !== 8 && bits !== 16) || !px || rows < 1 || columns < 1) return undefined;
  const n = rows * columns;
  if (px.length < (n * bits) / 8) return undefined;
  const bytes = ds.byteArray;
  const at = bytes.byteOffset + px.dataOffset;
  // Pixel data may start at an odd offset in the file: copy into an aligned buffer for 16 bit.
  const raw =
    bits === 8
      ? signed
        ? new Int8Array(bytes.buffer, at, n)
        : new Uint8Array(bytes.buffer, at, n)
      : signed
        ? new Int16Array(bytes.buffer.slice(at, at + n * 2))
        : new Uint16Array(bytes.buffer.slice(at, at + n * 2));
  const slope = ds.floatString('x00281053') ?? 1;
  const intercept = ds.floatString('x00281052') ?? 0;
  const values = new Float32Array(n);
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < n; i++) {
    const v = raw[i] * slope + intercept;
    values[i] = v;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const wc = ds.floatString('x00281050', 0);
  const ww = ds.floatString('x00281051', 0);
  // Cornerstone's linear VOI (utilities.windowLevel.toLowHighRange), or the value range without a window.
  const [lower, upper] = wc !== undefined && ww !== undefined && ww > 0 ? [wc - 0.5 - (ww - 1) / 2, wc - 0.5 + (ww - 1) / 2] : [min, max];
  const grey = new Uint8ClampedArray(n);
  const span = upper - lower || 1;
  const invert = photometric === 'MONOCHROME1';
  for (let i = 0; i < n; i++) {
    const g = Math.round((Math.min(upper, Math.max(lower, values[i])) - lower) * (255 / span));
    grey[i] = invert ? 255 - g : g;
  }
  const rowSpacing = ds.floatString('x00280030', 0) || 1;
  const columnSpacing = ds.floatString('x00280030', 1) || rowSpacing;
  return { rows, columns, rowSpacing, columnSpacing, lower, upper, grey };
}

/**
 * Draws the image into a canvas the size of its box (device pixels), fitted whole and centred with
 * its physical aspect, on black — as the viewer's stack viewport shows an image at zoom 1.
 */
export function drawPreview(canvas: HTMLCanvasElement, img: PreviewImage): void {
  const dpr = window.devicePixelRatio || 1;
  const w = Math.max(1, Math.round(canvas.clientWidth * dpr));
  const h = Math.max(1, Math.round(canvas.clientHeight * dpr));
  canvas.width = w;
  canvas.height = h;
  const src = document.createElement('canvas');
  src.width = img.columns;
  src.height = img.rows;
  const rgba = new Uint8ClampedArray(img.rows * img.columns * 4);
  for (let i = 0; i < img.grey.length; i++) {
    const g = img.grey[i];
    rgba[i * 4] = g;
    rgba[i * 4 + 1] = g;
    rgba[i * 4 + 2] = g;
    rgba[i * 4 + 3] = 255;
  }
  src.getContext('2d')!.putImageData(new ImageData(rgba, img.columns, img.rows), 0, 0);
  const physW = img.columns * img.columnSpacing;
  const physH = img.rows * img.rowSpacing;
  const scale = Math.min(w / physW, h / physH);
  const dw = physW * scale;
  const dh = physH * scale;
  const ctx = canvas.getContext('2d')!;
  ctx.fillStyle = '#000';
  ctx.fillRect(0, 0, w, h);
  ctx.imageSmoothingEnabled = true;
  ctx.drawImage(src, (w - dw) / 2, (h - dh) / 2, dw, dh);
}
