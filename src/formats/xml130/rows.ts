/**
 * One finished visit (facts.ts) as the rows of the insurance tables: the check-in (XML0), the
 * summary (XML1), medicines the facility billed (XML2), the examination as a service row (XML3),
 * the referral (XML13) when the visit referred, and the re-examination appointment (XML14) when it
 * set one. Column names and formats: spec.ts; choices that the public sources do not settle are
 * marked [U] here and in docs/national-formats.md.
 *
 * Rules: pure; an unknown value is left empty (validate.ts then lists it as missing) — nothing is
 * invented to make a row pass. Money in VND; dates in Việt Nam time.
 */
import { benefitLevel, birthTimestamp, money, vnDate, vnTimestamp, type ClaimFacts } from './facts.ts';
import type { Row } from './validate.ts';

export interface ClaimRows {
  XML0: Row[];
  XML1: Row[];
  XML2: Row[];
  XML3: Row[];
  XML13: Row[];
  XML14: Row[];
  /** Required columns that cannot apply to this visit, with why (validate.ts skips them). */
  waived: Set<string>;
}

/** QĐ 1804/2026 code 14 "KCB từ xa" from 01/08/2026 [U]; before, QĐ 824 PL1 code 01 (outpatient exam). */
export function careTypeCode(endIso: string): string {
  return endIso >= '2026-07-31T17:00:00.000Z' ? '14' : '01';
}

const GENDER: Record<string, string> = { male: '1', female: '2', other: '3', unknown: '3' };

/** Cost group (MA_NHOM, [S9]): 4 = listed drugs, 13 = examination. */
const GROUP_DRUG = '4';
const GROUP_EXAM = '13';

interface Line {
  bv: number;
  bh: number;
  bncct: number;
  bhtt: number;
  bntt: number;
}

function split(total: number, insured: boolean, level: number): Line {
  const bh = insured ? total : 0;
  const bncct = insured ? Math.round((bh * (100 - level)) / 100) : 0;
  return { bv: total, bh, bncct, bhtt: bh - bncct, bntt: total - bh };
}

export function claimRows(f: ClaimFacts): ClaimRows {
  const key = f.visitKey;
  const insured = f.service.insured && !!f.card;
  const level = insured ? (benefitLevel(f.card!.number) ?? 0) : 0;
  const ngayVao = vnTimestamp(f.start);
  const ngayRa = vnTimestamp(f.end);
  const careType = careTypeCode(f.end);
  const licence = f.practitioner.licence ?? '';
  const dept = f.facility.departmentCode ?? '';
  const facility = f.facility.code ?? '';
  const born = f.patient.birthDate ? birthTimestamp(f.patient.birthDate) : '';
  const gender = GENDER[f.patient.gender ?? ''] ?? '';
  const zero = { T_NGUONKHAC_NSNN: '0', T_NGUONKHAC_VTNN: '0', T_NGUONKHAC_VTTN: '0', T_NGUONKHAC_CL: '0', T_NGUONKHAC: '0' };

  // XML2: only medicines the facility dispensed and billed (a formulary price). The rest of the
  // e-prescription goes to the national prescription system, not to the insurance fund.
  const billed = f.medicines.filter((m) => m.price !== undefined);
  const drugLines = billed.map((m) => split(m.quantity * m.price!, insured, level));
  const XML2: Row[] = billed.map((m, i) => {
    const l = drugLines[i];
    return {
      MA_LK: key,
      STT: String(i + 1),
      MA_THUOC: m.activeCode ?? '',
      // Remote consultation (TT 20/2022, QĐ 4750): HC. + the prescribing facility; the remote doctor's licence + ";" + who dispensed.
      ...(m.remote ? { MA_CSKCB_THUOC: `HC.${m.remote.facilityCode}` } : {}),
      MA_NHOM: GROUP_DRUG,
      TEN_THUOC: m.name,
      DON_VI_TINH: m.unit,
      HAM_LUONG: m.strength ?? '',
      DUONG_DUNG: m.routeCode ?? '',
      ...(m.form ? { DANG_BAO_CHE: m.form } : {}),
      LIEU_DUNG: m.dose,
      ...(m.registration ? { SO_DANG_KY: m.registration } : {}),
      PHAM_VI: '1',
      TYLE_TT_BH: insured ? '100' : '0',
      SO_LUONG: String(m.quantity),
      DON_GIA: money(m.price!),
      THANH_TIEN_BV: money(l.bv),
      THANH_TIEN_BH: money(l.bh),
      ...zero,
      MUC_HUONG: String(level),
      T_BNTT: money(l.bntt),
      T_BNCCT: money(l.bncct),
      T_BHTT: money(l.bhtt),
      MA_KHOA: dept,
      MA_BAC_SI: m.remote ? `${m.remote.licence};${licence}` : licence,
      NGAY_YL: vnTimestamp(m.orderedAt),
      MA_PTTT: '1',
      NGUON_CTRA: '1',
    };
  });

  // XML3: the examination (khám bệnh) as one service row — or, for a hub's part of a case
  // conference, the consultation (hội chẩn), in the same cost group 13: TT 39/2018 prices "hội chẩn
  // để xác định ca bệnh khó" among examinations [U]; no teleconsultation DVKT code is published.
  const exam = split(f.service.price, insured, level);
  const XML3: Row[] = [
    {
      MA_LK: key,
      STT: '1',
      MA_DICH_VU: f.service.code ?? '',
      MA_NHOM: GROUP_EXAM,
      TEN_DICH_VU: f.service.name,
      DON_VI_TINH: 'Lần',
      PHAM_VI: f.service.inList ? '1' : '2',
      SO_LUONG: '1',
      DON_GIA_BV: money(f.service.price),
      DON_GIA_BH: money(insured ? f.service.price : 0),
      TYLE_TT_DV: '100',
      TYLE_TT_BH: insured ? '100' : '0',
      THANH_TIEN_BV: money(exam.bv),
      THANH_TIEN_BH: money(exam.bh),
      MUC_HUONG: String(level),
      ...zero,
      T_BNTT: money(exam.bntt),
      T_BNCCT: money(exam.bncct),
      T_BHTT: money(exam.bhtt),
      MA_KHOA: dept,
      // A consult: the higher-level doctor ordered it (QĐ 4750, XML3 MA_BAC_SI); every co-signer performed it.
      MA_BAC_SI: licence,
      NGUOI_THUC_HIEN: f.consult ? f.consult.performers.join(';') : licence,
      MA_BENH: f.diagnosis.code,
      NGAY_YL: ngayVao,
      NGAY_TH_YL: ngayVao,
      NGAY_KQ: ngayRa,
      MA_PTTT: '1',
    },
  ];

  const sum = (ls: Line[], k: keyof Line) => ls.reduce((a, l) => a + l[k], 0);
  const all = [...drugLines, exam];
  const card = insured ? f.card : undefined;
  const cardCols = card
    ? {
        MA_THE_BHYT: card.number,
        ...(card.registeredFacility ? { MA_DKBD: card.registeredFacility } : {}),
        ...(card.validFrom ? { GT_THE_TU: vnDate(card.validFrom) } : {}),
        ...(card.validTo ? { GT_THE_DEN: vnDate(card.validTo) } : {}),
      }
    : {};
  const person = {
    MA_BN: f.patient.id,
    HO_TEN: f.patient.name,
    ...(f.patient.cccd ? { SO_CCCD: f.patient.cccd } : {}),
    NGAY_SINH: born,
    GIOI_TINH: gender,
  };
  const followUp = f.followUp ? vnDate(f.followUp) : undefined;
  const XML1: Row[] = [
    {
      MA_LK: key,
      STT: '1',
      ...person,
      MA_QUOCTICH: f.patient.nationality ?? '',
      MA_DANTOC: f.patient.ethnicity ?? '',
      MA_NGHE_NGHIEP: f.patient.occupation ?? '',
      DIA_CHI: f.patient.address ?? '',
      MATINH_CU_TRU: f.patient.provinceCode ?? '',
      MAXA_CU_TRU: f.patient.communeCode ?? '',
      ...(f.patient.phone ? { DIEN_THOAI: f.patient.phone.slice(0, 15) } : {}),
      ...cardCols,
      LY_DO_VV: f.reason,
      CHAN_DOAN_VAO: f.diagnosis.display ? `${f.diagnosis.code} ${f.diagnosis.display}` : f.reason,
      CHAN_DOAN_RV: f.conclusion,
      MA_BENH_CHINH: f.diagnosis.code,
      MA_DOITUONG_KCB: f.subjectCode ?? '',
      ...(f.referral ? { MA_NOI_DI: facility, MA_NOI_DEN: f.referral.toFacility, GIAY_CHUYEN_TUYEN: f.referral.number } : {}),
      NGAY_VAO: ngayVao,
      NGAY_RA: ngayRa,
      SO_NGAY_DTRI: '0', // 0 for an outpatient examination (01); for code 14 the rule is not published [U]
      KET_QUA_DTRI: '7', // outcome not recorded at a remote examination: 7 = không xác định (unknown)
      MA_LOAI_RV: f.referral ? f.referral.kind : '1',
      ...(f.advice ? { GHI_CHU: f.advice } : {}),
      T_THUOC: money(sum(drugLines, 'bv')),
      T_VTYT: '0',
      T_TONGCHI_BV: money(sum(all, 'bv')),
      T_TONGCHI_BH: money(sum(all, 'bh')),
      T_BNTT: money(sum(all, 'bntt')),
      T_BNCCT: money(sum(all, 'bncct')),
      T_BHTT: money(sum(all, 'bhtt')),
      T_NGUONKHAC: '0',
      T_BHTT_GDV: money(sum(all, 'bhtt')), // every row is fee-for-service (MA_PTTT 1)
      NAM_QT: ngayRa.slice(0, 4),
      THANG_QT: ngayRa.slice(4, 6),
      MA_LOAI_KCB: careType,
      MA_KHOA: dept,
      MA_CSKCB: facility,
      CAN_NANG: f.patient.weightKg !== undefined ? f.patient.weightKg.toFixed(2) : '',
      ...(followUp ? { NGAY_TAI_KHAM: followUp } : {}),
      MA_HSBA: f.recordNo,
      ...(f.facility.headInsuranceNo ? { MA_TTDV: f.facility.headInsuranceNo } : {}),
    },
  ];

  const XML0: Row[] = [
    {
      MA_LK: key,
      STT: '1',
      ...person,
      ...(card ? { MA_THE_BHYT: card.number } : {}),
      ...(card?.registeredFacility ? { MA_DKBD: card.registeredFacility } : {}),
      ...(card?.validFrom ? { GT_THE_TU: vnDate(card.validFrom) } : {}),
      ...(card?.validTo ? { GT_THE_DEN: vnDate(card.validTo) } : {}),
      MA_DOITUONG_KCB: f.subjectCode ?? '',
      NGAY_VAO: ngayVao,
      MA_LOAI_KCB: careType,
      MA_CSKCB: facility,
      MA_DICH_VU: f.service.code ?? '',
      TEN_DICH_VU: f.service.name,
      NGAY_YL: ngayVao,
    },
  ];

  const XML14: Row[] = followUp
    ? [
        {
          MA_LK: key,
          SO_GIAYHEN_KL: `HK.${f.recordNo}`.slice(0, 50),
          MA_CSKCB: facility,
          HO_TEN: f.patient.name,
          NGAY_SINH: born,
          GIOI_TINH: gender,
          ...(f.patient.address ? { DIA_CHI: f.patient.address } : {}),
          ...(card ? { MA_THE_BHYT: card.number } : {}),
          ...(card?.validTo ? { GT_THE_DEN: vnDate(card.validTo) } : {}),
          NGAY_VAO: ngayVao,
          NGAY_RA: ngayRa,
          NGAY_HEN_KL: `${followUp}0000`,
          CHAN_DOAN_RV: f.conclusion,
          MA_BENH_CHINH: f.diagnosis.code,
          MA_DOITUONG_KCB: f.subjectCode ?? '',
          MA_BAC_SI: licence,
          MA_TTDV: f.facility.headInsuranceNo ?? '',
          NGAY_CT: ngayRa.slice(0, 8),
        },
      ]
    : [];

  const r = f.referral;
  const XML13: Row[] = r
    ? [
        {
          MA_LK: key,
          SO_HOSO: f.recordNo,
          SO_CHUYENTUYEN: r.number,
          GIAY_CHUYEN_TUYEN: r.number,
          MA_CSKCB: facility,
          MA_NOI_DI: facility,
          MA_NOI_DEN: r.toFacility,
          HO_TEN: f.patient.name,
          NGAY_SINH: born,
          GIOI_TINH: gender,
          NGAY_VAO: ngayVao,
          NGAY_RA: ngayRa,
          DAU_HIEU_LS: r.signs,
          CHAN_DOAN_RV: f.conclusion,
          QT_BENHLY: r.course,
          TOMTAT_KQ: r.results,
          MA_BENH_CHINH: f.diagnosis.code,
          TEN_DICH_VU: f.service.name,
          MA_LOAI_RV: r.kind,
          MA_LYDO_CT: r.reasonCode,
          HUONG_DIEU_TRI: r.direction,
          PHUONGTIEN_VC: r.transport,
          MA_BAC_SI: licence,
          MA_TTDV: f.facility.headInsuranceNo ?? '',
        },
      ]
    : [];

  // Districts were abolished on 01/07/2025 (two-level local government): no district code exists
  // for an address after that; how the tables fill MAHUYEN_CU_TRU since then is not published [U].
  const waived = new Set(f.end >= '2025-06-30T17:00:00.000Z' ? ['MAHUYEN_CU_TRU'] : []);
  return { XML0, XML1, XML2, XML3, XML13, XML14, waived };
}
