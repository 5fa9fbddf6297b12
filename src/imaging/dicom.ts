/**
 * DICOM Part 10 files through dcmjs: parse and check an upload (refusing anything that is not a
 * complete DICOM instance with the identifiers a store needs), the DICOM JSON model of an
 * instance (PS3.18 F.2, bulk data replaced by a URI), and its frames (native or encapsulated).
 *
 * Rules: nothing here touches storage or the record; every refusal is an `InvalidDicom` with a
 * message a station user can act on (Vietnamese first).
 */
import { createHash } from 'node:crypto';
import dcmjs from 'dcmjs';

const { DicomMessage } = dcmjs.data;
dcmjs.log.setLevel('error'); // its warnings about inferred VRs would fill the server log

export class InvalidDicom extends Error {}

/** DICOM JSON model: tag (8 hex digits, upper case) → { vr, Value? | InlineBinary? | BulkDataURI? }. */
export type DicomJson = Record<string, { vr: string; Value?: unknown[]; InlineBinary?: string; BulkDataURI?: string }>;

export const TAG = {
  StudyInstanceUID: '0020000D',
  SeriesInstanceUID: '0020000E',
  SOPInstanceUID: '00080018',
  SOPClassUID: '00080016',
  Modality: '00080060',
  StudyDate: '00080020',
  StudyTime: '00080030',
  StudyDescription: '00081030',
  SeriesDescription: '0008103E',
  SeriesNumber: '00200011',
  InstanceNumber: '00200013',
  PatientName: '00100010',
  PatientID: '00100020',
  AccessionNumber: '00080050',
  NumberOfFrames: '00280008',
  Rows: '00280010',
  Columns: '00280011',
  PixelSpacing: '00280030',
  PixelData: '7FE00010',
  ModalitiesInStudy: '00080061',
  NumberOfStudyRelatedSeries: '00201206',
  NumberOfStudyRelatedInstances: '00201208',
  NumberOfSeriesRelatedInstances: '00201209',
  RetrieveURL: '00081190',
} as const;

export interface ParsedInstance {
  studyUid: string;
  seriesUid: string;
  sopUid: string;
  sopClassUid: string;
  transferSyntaxUid: string;
  modality: string;
  instanceNumber?: number;
  seriesNumber?: number;
  seriesDescription?: string;
  studyDescription?: string;
  studyDate?: string;
  frames: number;
  /** sha256 of the file, hex: the same file stored twice is stored once. */
  sha256: string;
  /** The dataset in the DICOM JSON model, without pixel data (metadata). */
  json: DicomJson;
}

const UID = /^[0-9]+(\.[0-9]+)*$/;

function clean(dict: Record<string, any>): DicomJson {
  const out: DicomJson = {};
  for (const [tag, el] of Object.entries(dict)) {
    if (tag === TAG.PixelData) continue;
    const v = el as { vr: string; Value?: unknown[] };
    if (v.Value && v.Value.some((x) => x instanceof ArrayBuffer || ArrayBuffer.isView(x))) {
      out[tag] = { vr: v.vr }; // other bulk data: not served in metadata
      continue;
    }
    out[tag] = v.Value === undefined ? { vr: v.vr } : { vr: v.vr, Value: v.vr === 'SQ' ? (v.Value as Record<string, any>[]).map(clean) : v.Value };
  }
  return out;
}

export function first(json: DicomJson, tag: string): unknown {
  return json[tag]?.Value?.[0];
}

export function firstString(json: DicomJson, tag: string): string | undefined {
  const v = first(json, tag);
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'object' && 'Alphabetic' in (v as object)) return String((v as { Alphabetic: string }).Alphabetic);
  return String(v).trim() || undefined;
}

function read(bytes: Buffer): { meta: Record<string, any>; dict: Record<string, any> } {
  if (bytes.length < 132 || bytes.subarray(128, 132).toString('latin1') !== 'DICM')
    throw new InvalidDicom('Tệp không phải DICOM: thiếu phần đầu "DICM" (not a DICOM Part 10 file)');
  try {
    return DicomMessage.readFile(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length) as ArrayBuffer, { ignoreErrors: false });
  } catch (err) {
    throw new InvalidDicom(`Tệp DICOM hỏng, không đọc được (corrupt DICOM file: ${(err as Error).message.slice(0, 120)})`);
  }
}

/** Parses and checks one Part 10 file held in memory; throws InvalidDicom for anything a store must not accept. */
export function parseInstance(bytes: Buffer): ParsedInstance {
  const { meta, dict } = read(bytes);
  const pixels = dict[TAG.PixelData]?.Value as ArrayBuffer[] | undefined;
  if (pixels && !pixelDataComplete(bytes)) throw new InvalidDicom('Ảnh DICOM bị cắt cụt: dữ liệu điểm ảnh không đủ (truncated pixel data)');
  const pixelBytes = pixels ? pixels.reduce((n, b) => n + b.byteLength, 0) : undefined;
  return checkDataset(meta, dict, pixelBytes === undefined ? undefined : { pixelBytes }, createHash('sha256').update(bytes).digest('hex'));
}

/**
 * The checks on a parsed dataset (without or with its pixel data): the identifiers a store needs,
 * the image size, and — for native pixel data — that `pixelBytes` holds every frame. `pixels` is
 * undefined when the instance has no pixel data. Shared by the in-memory and the on-disk parse.
 */
export function checkDataset(meta: Record<string, any>, dict: Record<string, any>, pixels: { pixelBytes: number } | undefined, sha256: string): ParsedInstance {
  const json = clean(dict);
  const need = (tag: string, name: string) => {
    const v = firstString(json, tag);
    if (!v || !UID.test(v) || v.length > 64) throw new InvalidDicom(`Tệp DICOM thiếu hoặc sai ${name} (missing or invalid ${name})`);
    return v;
  };
  const studyUid = need(TAG.StudyInstanceUID, 'StudyInstanceUID');
  const seriesUid = need(TAG.SeriesInstanceUID, 'SeriesInstanceUID');
  const sopUid = need(TAG.SOPInstanceUID, 'SOPInstanceUID');
  const sopClassUid = need(TAG.SOPClassUID, 'SOPClassUID');
  const declared = Number(firstString(json, TAG.NumberOfFrames) ?? 1);
  if (pixels) {
    const rows = Number(first(json, TAG.Rows) ?? 0);
    const cols = Number(first(json, TAG.Columns) ?? 0);
    if (!rows || !cols) throw new InvalidDicom('Ảnh DICOM thiếu kích thước (Rows/Columns missing)');
    const ts = String(meta['00020010']?.Value?.[0] ?? '');
    if (isNative(ts)) {
      const bits = Number(first(json, '00280100') ?? 16);
      const spp = Number(first(json, '00280002') ?? 1);
      const expected = (rows * cols * spp * bits * declared) / 8;
      if (pixels.pixelBytes < expected)
        throw new InvalidDicom(`Ảnh DICOM bị cắt cụt: ${pixels.pixelBytes} byte điểm ảnh, cần ${expected} (truncated pixel data)`);
    }
  }
  return {
    studyUid,
    seriesUid,
    sopUid,
    sopClassUid,
    transferSyntaxUid: String(meta['00020010']?.Value?.[0] ?? '1.2.840.10008.1.2.1'),
    modality: firstString(json, TAG.Modality) ?? 'OT',
    instanceNumber: numberOf(json, TAG.InstanceNumber),
    seriesNumber: numberOf(json, TAG.SeriesNumber),
    seriesDescription: firstString(json, TAG.SeriesDescription),
    studyDescription: firstString(json, TAG.StudyDescription),
    studyDate: firstString(json, TAG.StudyDate),
    frames: pixels ? declared : 0,
    sha256,
    json,
  };
}

function numberOf(json: DicomJson, tag: string): number | undefined {
  const v = Number(firstString(json, tag));
  return Number.isFinite(v) ? v : undefined;
}

/**
 * dcmjs reads a file cut short without complaint, so the pixel data element is checked on the
 * bytes: explicit VR little endian (OB/OW/UN), its stated length must fit in the file; an
 * undefined length (encapsulated) must end with the sequence delimitation item.
 */
export function pixelDataComplete(bytes: Buffer): boolean {
  const tag = Buffer.from([0xe0, 0x7f, 0x10, 0x00]);
  let at = bytes.lastIndexOf(tag);
  while (at > 132) {
    const vr = bytes.subarray(at + 4, at + 6).toString('latin1');
    if (vr === 'OB' || vr === 'OW' || vr === 'UN') {
      const len = bytes.readUInt32LE(at + 8);
      if (len === 0xffffffff) return bytes.subarray(bytes.length - 8).equals(Buffer.from([0xfe, 0xff, 0xdd, 0xe0, 0, 0, 0, 0]));
      return at + 12 + len <= bytes.length;
    }
    at = bytes.lastIndexOf(tag, at - 1);
  }
  return true; // implicit VR files: dcmjs's own reading is all there is
}

/** Native (uncompressed) transfer syntaxes: frames are equal slices of the pixel data. */
export function isNative(ts: string): boolean {
  return ts === '1.2.840.10008.1.2' || ts === '1.2.840.10008.1.2.1' || ts === '1.2.840.10008.1.2.2';
}

/** Frames (1-based numbers) of an instance: raw native slices, or the encapsulated frame bytes. */
export function framesOf(bytes: Buffer, numbers: number[]): { contentType: string; frames: Buffer[] } {
  const { meta, dict } = read(bytes);
  const ts = String(meta['00020010']?.Value?.[0] ?? '');
  const pixels = dict[TAG.PixelData]?.Value as ArrayBuffer[] | undefined;
  if (!pixels?.length) throw new InvalidDicom('Ảnh không có dữ liệu điểm ảnh (no pixel data)');
  const json = clean(dict);
  const count = Number(firstString(json, TAG.NumberOfFrames) ?? 1);
  for (const n of numbers) if (!Number.isInteger(n) || n < 1 || n > count) throw new InvalidDicom(`Không có khung hình ${n} (frame out of range 1–${count})`);
  if (isNative(ts)) {
    const all = Buffer.concat(pixels.map((b) => Buffer.from(b)));
    const size = all.length / count;
    return { contentType: 'application/octet-stream', frames: numbers.map((n) => all.subarray((n - 1) * size, n * size)) };
  }
  // Encapsulated: dcmjs gives one buffer per frame when fragments are per frame; a single frame is
  // all its fragments. Frames whose fragments cannot be told apart are not guessed at (each would
  // be the whole pixel data): the instance is retrieved whole instead.
  const frames = pixels.length === count ? pixels : count === 1 ? [Buffer.concat(pixels.map((b) => Buffer.from(b)))] : undefined;
  if (!frames)
    throw new InvalidDicom(
      `Không tách được từng khung hình của ảnh này, hãy tải cả ảnh (the ${count} frames of this image cannot be separated; retrieve the instance)`,
    );
  const type = ts.startsWith('1.2.840.10008.1.2.4.5') ? 'image/jpeg' : `application/octet-stream; transfer-syntax=${ts}`;
  return { contentType: type, frames: numbers.map((n) => Buffer.from(frames[n - 1] as ArrayBuffer)) };
}
