/**
 * De-identification on the way out (teaching copies, exports): DICOM PS3.15 Annex E Basic
 * Application Level Confidentiality Profile, with dcmjs's list of the profile's attributes.
 *
 * What is done to each instance:
 * - every attribute of the profile's table that dcmjs lists is emptied (names, identifiers,
 *   dates, times, institutions, physicians, descriptions, comments …); PatientName and PatientID
 *   get a pseudonym that is the same for the whole study;
 * - UIDs (study, series, instance, frame of reference, and any UI in sequences) are replaced by
 *   new 2.25 UIDs derived with a keyed hash, so the copy's instances still belong together and
 *   the same study exported twice gives the same UIDs, but nobody without the key can go back;
 * - private attributes (odd groups) are removed;
 * - PatientIdentityRemoved = YES and DeidentificationMethod say what was done.
 * Burnt-in text (BurnedInAnnotation = YES, or a secondary capture such as a photo of a film) cannot
 * be removed from pixels here: the result says so, and the route warns.
 */
import dcmjs from 'dcmjs';

const { DicomMessage, DicomDict } = dcmjs.data;
const anonymizer = (dcmjs as unknown as { anonymizer: { cleanTags(dict: Record<string, unknown>, replace?: Record<string, string>): void } }).anonymizer;

export interface DeidentifiedInstance {
  bytes: Buffer;
  burntIn: boolean;
}

const SC_CLASSES = new Set([
  '1.2.840.10008.5.1.4.1.1.7',
  '1.2.840.10008.5.1.4.1.1.7.1',
  '1.2.840.10008.5.1.4.1.1.7.2',
  '1.2.840.10008.5.1.4.1.1.7.3',
  '1.2.840.10008.5.1.4.1.1.7.4',
]);
/** UIDs that name standard things (SOP classes, transfer syntaxes), never replaced. */
const KEEP_UIDS = new Set(['00080016', '00020002', '00020010', '00020012', '00081150', '0008115A', '00400260']);

function replaceUids(dict: Record<string, any>, mapUid: (uid: string) => string): void {
  for (const [tag, el] of Object.entries(dict)) {
    if (el?.vr === 'UI' && !KEEP_UIDS.has(tag) && Array.isArray(el.Value)) el.Value = el.Value.map((u: string) => (u ? mapUid(String(u)) : u));
    if (el?.vr === 'SQ' && Array.isArray(el.Value)) for (const item of el.Value) replaceUids(item, mapUid);
  }
}

function removePrivate(dict: Record<string, any>): void {
  for (const tag of Object.keys(dict)) {
    if (parseInt(tag.slice(0, 4), 16) % 2 === 1) delete dict[tag];
    else if (dict[tag]?.vr === 'SQ' && Array.isArray(dict[tag].Value)) for (const item of dict[tag].Value) removePrivate(item);
  }
}

/**
 * De-identifies one Part 10 file. `keyedHash(text)` is a keyed hash (hex) — the server's HMAC —
 * used for UIDs and the pseudonym; `pseudonym` names the patient in the copy (e.g. "CA-1A2B3C").
 */
export function deidentify(bytes: Buffer, keyedHash: (text: string) => string, pseudonym: string): DeidentifiedInstance {
  const msg = DicomMessage.readFile(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length) as ArrayBuffer);
  const dict = msg.dict as Record<string, any>;
  const burntIn = String(dict['00280301']?.Value?.[0] ?? '').toUpperCase() === 'YES' || SC_CLASSES.has(String(dict['00080016']?.Value?.[0] ?? ''));
  anonymizer.cleanTags(dict, { '00100010': `ANON^${pseudonym}`, '00100020': pseudonym });
  removePrivate(dict);
  const mapUid = (uid: string) => `2.25.${BigInt(`0x${keyedHash(`dicom-uid:${uid}`).slice(0, 32)}`).toString()}`;
  replaceUids(dict, mapUid);
  dict['00120062'] = { vr: 'CS', Value: ['YES'] };
  dict['00120063'] = { vr: 'LO', Value: ['DICOM PS3.15 E.1 Basic Application Confidentiality Profile (cauyte)'] };
  dict['00120064'] = {
    vr: 'SQ',
    Value: [
      {
        '00080100': { vr: 'SH', Value: ['113100'] },
        '00080102': { vr: 'SH', Value: ['DCM'] },
        '00080104': { vr: 'LO', Value: ['Basic Application Confidentiality Profile'] },
      },
    ],
  };
  const meta = msg.meta as Record<string, any>;
  meta['00020003'] = { vr: 'UI', Value: [dict['00080018']?.Value?.[0]] };
  const out = new DicomDict(meta);
  out.dict = dict;
  return { bytes: Buffer.from(out.write()), burntIn };
}
