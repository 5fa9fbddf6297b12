/**
 * Writing DICOM with dcmjs: phone photos of a film or screen (JPEG → DICOM Secondary Capture with
 * the patient's identifiers, for stations without digital equipment), and synthetic CT-like
 * series for tests and benchmarks (made-up pixels and names — never real patient data).
 *
 * Rules: UIDs are generated under the 2.25 (UUID-derived) root; the JPEG is kept as it is
 * (encapsulated baseline JPEG), only its size is read from its SOF header.
 */
import { randomUUID } from 'node:crypto';
import dcmjs from 'dcmjs';
import { InvalidDicom } from './dicom.ts';

const { DicomMetaDictionary, DicomDict } = dcmjs.data;
dcmjs.log.setLevel('error');

export const SC_SOP_CLASS = '1.2.840.10008.5.1.4.1.1.7'; // Secondary Capture Image Storage
export const CT_SOP_CLASS = '1.2.840.10008.5.1.4.1.1.2';
const EXPLICIT_LE = '1.2.840.10008.1.2.1';
const JPEG_BASELINE = '1.2.840.10008.1.2.4.50';

/** A new UID under 2.25 (the decimal form of a random UUID). */
export function newUid(): string {
  return `2.25.${BigInt(`0x${randomUUID().replace(/-/g, '')}`).toString()}`;
}

function write(ds: Record<string, unknown>, transferSyntax: string): Buffer {
  const meta = {
    FileMetaInformationVersion: new Uint8Array([0, 1]).buffer,
    MediaStorageSOPClassUID: ds.SOPClassUID,
    MediaStorageSOPInstanceUID: ds.SOPInstanceUID,
    TransferSyntaxUID: transferSyntax,
    ImplementationClassUID: '2.25.101309474335582409457215838245106547631',
    ImplementationVersionName: 'CAUYTE_1',
  };
  const dict = new DicomDict(DicomMetaDictionary.denaturalizeDataset(meta));
  dict.dict = DicomMetaDictionary.denaturalizeDataset(ds);
  // dcmjs needs the pixel data's VR when it is not OB/OW-inferred.
  const pd = dict.dict['7FE00010'] as { vr?: string } | undefined;
  if (pd) pd.vr = transferSyntax === JPEG_BASELINE ? 'OB' : 'OW';
  return Buffer.from(dict.write({ fragmentMultiframe: false }));
}

/** Width and height from a JPEG's start-of-frame marker; refuses what is not a JPEG. */
export function jpegSize(jpeg: Buffer): { rows: number; columns: number; components: number } {
  if (!(jpeg[0] === 0xff && jpeg[1] === 0xd8)) throw new InvalidDicom('Ảnh chụp phải là JPEG (the photo must be a JPEG)');
  let i = 2;
  while (i + 9 < jpeg.length) {
    if (jpeg[i] !== 0xff) throw new InvalidDicom('Ảnh JPEG hỏng (corrupt JPEG)');
    const marker = jpeg[i + 1];
    const len = jpeg.readUInt16BE(i + 2);
    if (marker >= 0xc0 && marker <= 0xc3) return { rows: jpeg.readUInt16BE(i + 5), columns: jpeg.readUInt16BE(i + 7), components: jpeg[i + 9] };
    i += 2 + len;
  }
  throw new InvalidDicom('Ảnh JPEG không có kích thước (no JPEG frame header)');
}

export interface PatientIds {
  /** Name as written in the record (family and given), put into PatientName as Family^Given. */
  family: string;
  given: string;
  /** The record's patient id (and any national identifier) as PatientID / OtherPatientIDs. */
  patientId: string;
  birthDate?: string; // YYYY-MM-DD
  sex?: 'male' | 'female' | 'other' | 'unknown';
}

/** DICOM dates and times are local: Vietnam's (UTC+7, no daylight saving). */
const vnNow = () => new Date(Date.now() + 7 * 3600_000).toISOString();
const DA = (d = vnNow()) => d.slice(0, 10).replace(/-/g, '');
const TM = () => vnNow().slice(11, 19).replace(/:/g, '');

function patientTags(p: PatientIds) {
  return {
    PatientName: `${p.family}^${p.given}`,
    PatientID: p.patientId,
    ...(p.birthDate ? { PatientBirthDate: DA(p.birthDate) } : {}),
    PatientSex: p.sex === 'male' ? 'M' : p.sex === 'female' ? 'F' : 'O',
    SpecificCharacterSet: 'ISO_IR 192',
  };
}

/** A phone photo of a film or screen as a Secondary Capture instance of a study. */
export function jpegToSecondaryCapture(
  jpeg: Buffer,
  patient: PatientIds,
  opts: { studyUid?: string; seriesUid?: string; instanceNumber?: number; description?: string } = {},
): Buffer {
  const { rows, columns, components } = jpegSize(jpeg);
  const padded = jpeg.length % 2 ? Buffer.concat([jpeg, Buffer.from([0])]) : jpeg;
  const sop = newUid();
  return write(
    {
      SOPClassUID: SC_SOP_CLASS,
      SOPInstanceUID: sop,
      StudyInstanceUID: opts.studyUid ?? newUid(),
      SeriesInstanceUID: opts.seriesUid ?? newUid(),
      ...patientTags(patient),
      StudyDate: DA(),
      StudyTime: TM(),
      ContentDate: DA(),
      Modality: 'OT',
      ConversionType: 'DF', // digitized film
      StudyDescription: opts.description ?? 'Ảnh chụp phim',
      SeriesNumber: '1',
      InstanceNumber: String(opts.instanceNumber ?? 1),
      SamplesPerPixel: components,
      PhotometricInterpretation: components === 3 ? 'YBR_FULL_422' : 'MONOCHROME2',
      ...(components === 3 ? { PlanarConfiguration: 0 } : {}),
      Rows: rows,
      Columns: columns,
      BitsAllocated: 8,
      BitsStored: 8,
      HighBit: 7,
      PixelRepresentation: 0,
      LossyImageCompression: '01',
      BurnedInAnnotation: 'YES',
      PixelData: [padded.buffer.slice(padded.byteOffset, padded.byteOffset + padded.length)],
    },
    JPEG_BASELINE,
  );
}

export interface SyntheticSeries {
  studyUid: string;
  seriesUid: string;
  files: Buffer[];
  pixelSpacing: number;
  size: number;
}

/**
 * A synthetic CT-like series: `count` slices of `size`×`size` 16-bit pixels, a disc whose radius
 * changes with the slice and a bright square marker of known width (for measurement tests),
 * pixel spacing `spacing` mm. Names are made up ("Tổng hợp^Ảnh thử").
 */
export function syntheticSeries(
  opts: { count?: number; size?: number; spacing?: number; studyUid?: string; seriesUid?: string; firstInstance?: number; patientId?: string } = {},
): SyntheticSeries {
  const count = opts.count ?? 10;
  const size = opts.size ?? 128;
  const spacing = opts.spacing ?? 0.5;
  const studyUid = opts.studyUid ?? newUid();
  const seriesUid = opts.seriesUid ?? newUid();
  const first = opts.firstInstance ?? 1;
  const files: Buffer[] = [];
  for (let k = 0; k < count; k++) {
    const px = new Int16Array(size * size);
    const r = size * (0.2 + (0.15 * k) / Math.max(1, count - 1));
    for (let y = 0; y < size; y++)
      for (let x = 0; x < size; x++) {
        const d = Math.hypot(x - size / 2, y - size / 2);
        px[y * size + x] = d < r ? 40 + ((x * 7 + y * 3 + k) % 20) : d < r + 4 ? 700 : -1000;
      }
    files.push(
      write(
        {
          SOPClassUID: CT_SOP_CLASS,
          SOPInstanceUID: newUid(),
          StudyInstanceUID: studyUid,
          SeriesInstanceUID: seriesUid,
          PatientName: 'Tổng hợp^Ảnh thử',
          PatientID: opts.patientId ?? 'SYNTHETIC',
          SpecificCharacterSet: 'ISO_IR 192',
          StudyDate: DA(),
          StudyTime: TM(),
          Modality: 'CT',
          StudyDescription: 'CT tổng hợp (ảnh thử)',
          SeriesDescription: 'Lát cắt ngang',
          SeriesNumber: '1',
          InstanceNumber: String(first + k),
          ImagePositionPatient: [0, 0, (first - 1 + k) * 5],
          ImageOrientationPatient: [1, 0, 0, 0, 1, 0],
          SliceThickness: 5,
          PixelSpacing: [spacing, spacing],
          SamplesPerPixel: 1,
          PhotometricInterpretation: 'MONOCHROME2',
          Rows: size,
          Columns: size,
          BitsAllocated: 16,
          BitsStored: 16,
          HighBit: 15,
          PixelRepresentation: 1,
          RescaleIntercept: 0,
          RescaleSlope: 1,
          WindowCenter: 40,
          WindowWidth: 400,
          PixelData: px.buffer,
        },
        EXPLICIT_LE,
      ),
    );
  }
  return { studyUid, seriesUid, files, pixelSpacing: spacing, size };
}
