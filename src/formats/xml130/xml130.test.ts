/**
 * The insurance tables of one visit, read back as the gateway would: the envelope and every
 * table parsed with fast-xml-parser and each column checked against the reference tables
 * (docs/national-formats.md §1.3: name, order, type, length, required, yyyyMMddHHmm / yyyyMMdd);
 * the signature checked by xmlsec1 (an independent verifier) and broken by changing one field;
 * a visit missing data listed with what is missing and not signed; the remote-consultation rules
 * (HC. prefix, both doctors); XML13 and XML14 only when they apply; the PKCS#12 file read.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { makeFacilityCertificate, type TestCertificate } from '../../testing/certificates.ts';
import { checkTable, parser, xmlsecVerifies } from '../../testing/xml130.ts';
import { buildClaim } from './claim.ts';
import { FACTS } from './fixture.ts';
import { keyFromPkcs12, verifyDocument } from './sign.ts';
import { TABLES } from './spec.ts';

describe('insurance XML (QĐ 130/4750) of one visit', () => {
  let cert: TestCertificate;
  beforeAll(() => {
    cert = makeFacilityCertificate();
  });

  it('reads the facility key and certificate from its PKCS#12 file', () => {
    const k = keyFromPkcs12(cert.p12, cert.password);
    expect(k.cert.replace(/\s/g, '')).toBe(cert.cert.replace(/\s/g, ''));
    expect(() => keyFromPkcs12(cert.p12, 'wrong')).toThrow();
  });

  it('builds the check-in and the envelope; every table parses back with every column right; xmlsec1 verifies; one changed field breaks it', () => {
    const key = keyFromPkcs12(cert.p12, cert.password);
    const c = buildClaim(FACTS, key, '2026-11-25T02:00:00.000Z');
    expect(c.problems).toEqual([]);
    const env = parser.parse(c.signed!.envelope);
    const g = env.GIAMDINHHS;
    expect(g.THONGTINDONVI.MACSKCB).toBe('10123');
    expect(g.THONGTINHOSO.NGAYLAP).toBe('20261125');
    expect(g.THONGTINHOSO.SOLUONGHOSO).toBe('1');
    const files = g.THONGTINHOSO.DANHSACHHOSO.HOSO[0].FILEHOSO as { LOAIHOSO: string; NOIDUNGFILE: string }[];
    expect(files.map((f) => f.LOAIHOSO)).toEqual(['XML1', 'XML2', 'XML3', 'XML14']); // no referral: no XML13
    expect(g.CHUKYDONVI.Signature).toBeTruthy();
    const tables: Record<string, Record<string, string>[]> = {};
    for (const f of files) {
      expect(f.NOIDUNGFILE).toMatch(/^[A-Za-z0-9+/]+=*$/); // base64 on one line
      const doc = Buffer.from(f.NOIDUNGFILE, 'base64').toString('utf8');
      expect(doc.startsWith('<?xml version="1.0" encoding="utf-8"?>')).toBe(true);
      tables[f.LOAIHOSO] = checkTable(TABLES[f.LOAIHOSO as keyof typeof TABLES], parser.parse(doc));
    }
    const [x1] = tables.XML1;
    expect(x1.HO_TEN).toBe('Nguyễn Văn An');
    expect(x1.NGAY_SINH).toBe('198503070000');
    expect(x1.NGAY_VAO).toBe('202611250815'); // 01:15 UTC = 08:15 in Việt Nam
    expect(x1.MA_LOAI_KCB).toBe('14');
    expect(x1.NGAY_TAI_KHAM).toBe('20261225');
    expect(x1.CAN_NANG).toBe('62.50');
    // Only the medicine the facility billed is in XML2; the totals add up (card level 4 → 80%).
    expect(tables.XML2.map((r) => r.TEN_THUOC)).toEqual(['Amlodipin 5 mg']);
    expect(tables.XML2[0].THANH_TIEN_BV).toBe('10500');
    expect(x1.T_THUOC).toBe('10500');
    expect(x1.T_TONGCHI_BV).toBe('49500');
    expect(Number(x1.T_BHTT) + Number(x1.T_BNCCT)).toBe(Number(x1.T_TONGCHI_BH));
    expect(x1.T_BNCCT).toBe('9900');
    expect(tables.XML3[0].MA_NHOM).toBe('13');
    expect(tables.XML14[0].NGAY_HEN_KL).toBe('202612250000');

    const checkIn = checkTable(TABLES.XML0, parser.parse(c.signed!.checkIn));
    expect(checkIn[0].NGAY_YL).toBe('202611250815');

    expect(xmlsecVerifies(c.signed!.envelope, cert, 'envelope.xml')).toBe(true);
    expect(xmlsecVerifies(c.signed!.checkIn, cert, 'checkin.xml')).toBe(true);
    expect(verifyDocument(c.signed!.envelope, cert.cert)).toBe(true);

    // Change one field of XML1 (the patient's name) and put the table back: the signature breaks.
    const xml1 = files.find((f) => f.LOAIHOSO === 'XML1')!.NOIDUNGFILE;
    const forged = Buffer.from(Buffer.from(xml1, 'base64').toString('utf8').replace('Nguyễn Văn An', 'Nguyễn Văn Bình'), 'utf8').toString('base64');
    const tampered = c.signed!.envelope.replace(xml1, forged);
    expect(tampered).not.toBe(c.signed!.envelope);
    expect(xmlsecVerifies(tampered, cert, 'tampered.xml')).toBe(false);
    expect(verifyDocument(tampered, cert.cert)).toBe(false);
    const tamperedCheckIn = c.signed!.checkIn.replace('<GIOI_TINH>1</GIOI_TINH>', '<GIOI_TINH>2</GIOI_TINH>');
    expect(tamperedCheckIn).not.toBe(c.signed!.checkIn);
    expect(xmlsecVerifies(tamperedCheckIn, cert, 'tampered-checkin.xml')).toBe(false);
  });

  it('lists everything a visit lacks and signs nothing', () => {
    const key = keyFromPkcs12(cert.p12, cert.password);
    const c = buildClaim(
      { ...FACTS, patient: { ...FACTS.patient, occupation: undefined, weightKg: undefined }, facility: { ...FACTS.facility, code: undefined } },
      key,
    );
    expect(c.signed).toBeUndefined();
    const missing = c.problems.map((p) => `${p.table}.${p.column}`);
    expect(missing).toEqual(expect.arrayContaining(['XML1.MA_NGHE_NGHIEP', 'XML1.CAN_NANG', 'XML1.MA_CSKCB', 'XML0.MA_CSKCB', 'XML14.MA_CSKCB']));
    expect(buildClaim(FACTS, undefined).problems.map((p) => p.column)).toEqual(['CHUKYDONVI']);
    // A too-long or malformed value is named too.
    const bad = buildClaim({ ...FACTS, diagnosis: { code: 'I10.00000' }, patient: { ...FACTS.patient, birthDate: '1985-13-40' } }, key);
    expect(bad.problems).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ table: 'XML1', column: 'MA_BENH_CHINH', problem: 'too-long' }),
        expect.objectContaining({ table: 'XML1', column: 'NGAY_SINH', problem: 'bad-format' }),
      ]),
    );
  });

  it('remote consultation: a medicine prescribed by the consulting facility carries HC. and both doctors; a referral adds XML13; self-pay has no card', () => {
    const key = keyFromPkcs12(cert.p12, cert.password);
    const c = buildClaim(
      {
        ...FACTS,
        medicines: [{ ...FACTS.medicines[0], remote: { facilityCode: '01929', licence: 'CCHN-1001' } }],
        referral: {
          number: 'CT-2026-0001',
          toFacility: '01929',
          reasonCode: '2',
          signs: 'Huyết áp 190/110',
          course: 'Tăng huyết áp không kiểm soát',
          results: 'Điện tim: dày thất trái',
          direction: 'Điều trị nội trú',
          transport: 'Xe cứu thương',
          kind: '2',
        },
      },
      key,
    );
    expect(c.problems).toEqual([]);
    expect(c.rows.XML2[0].MA_CSKCB_THUOC).toBe('HC.01929');
    expect(c.rows.XML2[0].MA_BAC_SI).toBe('CCHN-1001;CCHN-1007');
    expect(c.rows.XML1[0].MA_LOAI_RV).toBe('2');
    expect(c.rows.XML13).toHaveLength(1);
    const files = parser.parse(c.signed!.envelope).GIAMDINHHS.THONGTINHOSO.DANHSACHHOSO.HOSO[0].FILEHOSO as { LOAIHOSO: string; NOIDUNGFILE: string }[];
    expect(files.map((f) => f.LOAIHOSO)).toContain('XML13');
    checkTable(TABLES.XML13, parser.parse(Buffer.from(files.find((f) => f.LOAIHOSO === 'XML13')!.NOIDUNGFILE, 'base64').toString('utf8')));
    expect(xmlsecVerifies(c.signed!.envelope, cert, 'consult.xml')).toBe(true);

    const self = buildClaim({ ...FACTS, card: undefined, subjectCode: '9' }, key);
    expect(self.problems).toEqual([]);
    expect(self.rows.XML1[0].MA_THE_BHYT).toBeUndefined();
    expect(self.rows.XML1[0].T_BHTT).toBe('0');
    expect(self.rows.XML1[0].T_BNTT).toBe('49500');
  });
});
