/** The text of a PDF, as a reader extracts it (pdf-parse, built on Mozilla's PDF.js). */
import { PDFParse } from 'pdf-parse';

export async function pdfText(data: Buffer | Uint8Array): Promise<string> {
  return (await new PDFParse({ data: new Uint8Array(data) }).getText()).text;
}
