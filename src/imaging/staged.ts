/**
 * Checking staged upload files on disk without reading them into memory: the SHA-256 is computed
 * while streaming the file, and only the DICOM header (everything before the pixel data element)
 * is read and parsed; the pixel data is checked from its element's length against the file's size
 * (native) or from the file's last 8 bytes (encapsulated: the sequence delimitation item).
 *
 * Rules: the same checks as `parseInstance` (dicom.ts) — a file refused there is refused here;
 * when the header cannot be delimited (implicit VR, no pixel data in the first 256 KiB, a header that
 * does not end exactly at the pixel data element) the file is read whole and checked by
 * `parseInstance` (memory bounded by one file, never by the study). Nothing here writes anything.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import dcmjs from 'dcmjs';
import { InvalidDicom, checkDataset, parseInstance, type ParsedInstance } from './dicom.ts';

const { DicomMessage } = dcmjs.data;
/** How much of a file is read to find its header's end (larger headers fall back to a whole read). */
const HEAD_BYTES = 256 * 1024;
const PIXEL_TAG = Buffer.from([0xe0, 0x7f, 0x10, 0x00]);
const SEQ_DELIMITER = Buffer.from([0xfe, 0xff, 0xdd, 0xe0, 0, 0, 0, 0]);

/** SHA-256 (hex) of a file, streamed. */
export async function hashFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path, { highWaterMark: 256 * 1024 }), hash);
  return hash.digest('hex');
}

/** The first explicit-VR (OB/OW/UN) pixel data element in `head`, past the preamble. */
function pixelElementAt(head: Buffer): number {
  let at = head.indexOf(PIXEL_TAG, 132);
  while (at >= 0 && at + 12 <= head.length) {
    const vr = head.subarray(at + 4, at + 6).toString('latin1');
    if (vr === 'OB' || vr === 'OW' || vr === 'UN') return at;
    at = head.indexOf(PIXEL_TAG, at + 1);
  }
  return -1;
}

/** Parses and checks one staged Part 10 file, reading its header only where it can. `sha256` is the file's (already computed). */
export async function parseInstanceFile(path: string, sha256: string): Promise<ParsedInstance> {
  const fh = await open(path, 'r');
  try {
    const { size } = await fh.stat();
    if (size < 132) throw new InvalidDicom('Tệp không phải DICOM: thiếu phần đầu "DICM" (not a DICOM Part 10 file)');
    const headLength = Math.min(size, HEAD_BYTES);
    const head = Buffer.alloc(headLength);
    await fh.read(head, 0, headLength, 0);
    if (head.subarray(128, 132).toString('latin1') !== 'DICM') throw new InvalidDicom('Tệp không phải DICOM: thiếu phần đầu "DICM" (not a DICOM Part 10 file)');
    const at = pixelElementAt(head);
    const whole = async () => parseInstance(await fh.readFile());
    if (at < 0) return await whole();
    let parsed: { meta: Record<string, any>; dict: Record<string, any> };
    try {
      // The header ends exactly where the pixel data element starts; a tag pattern inside some
      // other value would leave dcmjs mid-element, and it throws: then the whole file is read.
      const h = head.subarray(0, at);
      parsed = DicomMessage.readFile(h.buffer.slice(h.byteOffset, h.byteOffset + h.length) as ArrayBuffer, { ignoreErrors: false });
    } catch {
      return await whole();
    }
    const length = head.readUInt32LE(at + 8);
    let pixelBytes: number;
    if (length === 0xffffffff) {
      const tail = Buffer.alloc(8);
      await fh.read(tail, 0, 8, size - 8);
      if (!tail.equals(SEQ_DELIMITER)) throw new InvalidDicom('Ảnh DICOM bị cắt cụt: dữ liệu điểm ảnh không đủ (truncated pixel data)');
      pixelBytes = Infinity; // encapsulated: frames are not counted here (as in parseInstance)
    } else {
      if (at + 12 + length > size) throw new InvalidDicom('Ảnh DICOM bị cắt cụt: dữ liệu điểm ảnh không đủ (truncated pixel data)');
      pixelBytes = length;
    }
    return checkDataset(parsed.meta, parsed.dict, { pixelBytes }, sha256);
  } finally {
    await fh.close();
  }
}
