/**
 * PDF documents people download (prescriptions, their health record), with a font that carries
 * every Vietnamese letter (Noto Sans, SIL Open Font License; PDF's built-in fonts do not).
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import PDFDocument from 'pdfkit';

const require = createRequire(import.meta.url);
// Read once. (Sharing one parsed fontkit font between documents would save most of a document's
// time, but its glyph caches leak between documents and garble the text layer: measured, not done.)
const FONT_REGULAR = readFileSync(require.resolve('@expo-google-fonts/noto-sans/400Regular/NotoSans_400Regular.ttf'));
const FONT_BOLD = readFileSync(require.resolve('@expo-google-fonts/noto-sans/700Bold/NotoSans_700Bold.ttf'));

export interface Pdf {
  doc: PDFKit.PDFDocument;
  /** Text in the current font; precomposed Vietnamese letters are kept whole (see below). */
  text(s: string, opts?: PDFKit.Mixins.TextOptions): PDFKit.PDFDocument;
  done: Promise<Buffer>;
}

export function newPdf(opts: { size?: string; title: string; author: string; subject: string }): Pdf {
  const doc = new PDFDocument({
    size: opts.size ?? 'A4',
    margin: 36,
    info: { Title: opts.title, Author: opts.author, Subject: opts.subject, Producer: 'Cầu Y Tế', Creator: 'Cầu Y Tế' },
  });
  const chunks: Buffer[] = [];
  doc.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<Buffer>((resolve, reject) => {
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);
  });
  doc.registerFont('regular', FONT_REGULAR);
  doc.registerFont('bold', FONT_BOLD);
  doc.font('regular');
  // Without ccmp, "ị" stays one glyph instead of "i" + a combining dot, so the PDF's text (copy,
  // search, screen readers) reads as written.
  const text = (s: string, o: PDFKit.Mixins.TextOptions = {}) => doc.text(s, { ...o, features: { ccmp: false } as never });
  return { doc, text, done };
}
