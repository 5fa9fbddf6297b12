/**
 * De-identification (PS3.15 basic profile) of synthetic instances: identifiers and dates gone,
 * UIDs replaced consistently across a study, private attributes removed, the profile recorded; a
 * real DICOM tool (dcmtk's dcmdump) reads the result; photos of a film are flagged as burnt-in.
 */
import { createHmac } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { jpegToSecondaryCapture, syntheticSeries } from './create.ts';
import { parseInstance } from './dicom.ts';
import { deidentify } from './deidentify.ts';
import { TINY_JPEG } from './test-fixtures.ts';

const hash = (t: string) => createHmac('sha256', 'test-key').update(t).digest('hex');

describe('de-identification', () => {
  it('removes identifiers and dates, replaces UIDs consistently, records the profile', () => {
    const s = syntheticSeries({ count: 2, size: 16, patientId: 'VN-123456789' });
    const a = parseInstance(deidentify(s.files[0], hash, 'CA-0001').bytes);
    const b = parseInstance(deidentify(s.files[1], hash, 'CA-0001').bytes);
    const again = parseInstance(deidentify(s.files[0], hash, 'CA-0001').bytes);
    const original = parseInstance(s.files[0]);
    expect(a.json['00100010'].Value?.[0]).toEqual({ Alphabetic: 'ANON^CA-0001' });
    expect(a.json['00100020'].Value).toEqual(['CA-0001']);
    expect((a.json['00080020']?.Value ?? []).filter(Boolean)).toEqual([]); // StudyDate emptied
    expect(JSON.stringify(a.json)).not.toContain('VN-123456789');
    expect(JSON.stringify(a.json)).not.toContain('Tổng hợp');
    expect(a.studyUid).not.toBe(original.studyUid);
    expect(a.studyUid).toBe(b.studyUid); // one study stays one study
    expect(a.sopUid).not.toBe(b.sopUid);
    expect(a.sopUid).toBe(again.sopUid); // the same export gives the same UIDs
    expect(a.sopClassUid).toBe(original.sopClassUid);
    expect(a.json['00120062'].Value).toEqual(['YES']);
    expect(a.frames).toBe(1);
  });

  it('is readable by dcmtk and flags burnt-in text on photos of a film', () => {
    const photo = jpegToSecondaryCapture(Buffer.from(TINY_JPEG, 'base64'), {
      family: 'Nguyễn',
      given: 'Văn An',
      patientId: 'p-1',
      birthDate: '1974-08-06',
      sex: 'male',
    });
    const out = deidentify(photo, hash, 'CA-0002');
    expect(out.burntIn).toBe(true);
    if (!existsSync('/usr/bin/dcmdump')) return;
    const dir = mkdtempSync(join(tmpdir(), 'deid-'));
    try {
      writeFileSync(join(dir, 'x.dcm'), out.bytes);
      const dump = execFileSync('dcmdump', [join(dir, 'x.dcm')]).toString();
      expect(dump).toContain('ANON^CA-0002');
      expect(dump).not.toContain('Nguy');
      expect(dump).not.toContain('19740806');
      expect(dump).toMatch(/PatientIdentityRemoved/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
