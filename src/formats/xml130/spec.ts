/**
 * The QĐ 130/QĐ-BYT tables (as amended by QĐ 4750) this platform sends, as data: every column in
 * the appendix's order, with its type (S string / N number), maximum length (0 = unlimited, "Sn")
 * and whether it is required ("x" = mandatory, "c" = conditional, "4210" = as in QĐ 4210, "" =
 * optional), plus the date format the column carries. Source: docs/national-formats.md §1.3
 * (QĐ 4750 appendix [S1], CV 1245 templates [S2], validation workbook [S4]); required flags come
 * from the validation workbook, not the decision itself.
 *
 * Rules: pure data. The element order here is the order written into the XML. A column marked
 * `4210` is required for the rows it applies to (a service row needs MA_DICH_VU; a supply row
 * MA_VAT_TU): rows.ts fills what applies and validate.ts checks `x` columns and every format.
 */

export type Req = 'x' | 'c' | '4210' | '';
/** T = yyyyMMddHHmm, D = yyyyMMdd, DL = yyyyMMdd list separated by ";". */
export type Format = 'T' | 'D' | 'DL';

export interface Column {
  name: string;
  type: 'S' | 'N';
  /** Maximum length in characters (S) or digits (N); 0 = unlimited. */
  max: number;
  req: Req;
  format?: Format;
}

export interface TableSpec {
  /** LOAIHOSO in the envelope. */
  kind: 'XML0' | 'XML1' | 'XML2' | 'XML3' | 'XML13' | 'XML14';
  /** Root element, list element, row element (one row per item); a one-row table has no list. */
  root: string;
  list?: string;
  row?: string;
  columns: Column[];
}

/** "NAME S100 x" / "NAME N1" / "NAME Sn c" / "NAME S12 x T" → a Column. */
function col(s: string): Column {
  const [name, t, req = '', format] = s.split(' ');
  const type = t[0] as 'S' | 'N';
  const max = t.slice(1) === 'n' ? 0 : Number(t.slice(1));
  return { name, type, max, req: (req === '-' ? '' : req) as Req, ...(format ? { format: format as Format } : {}) };
}
const cols = (lines: string): Column[] =>
  lines
    .trim()
    .split('\n')
    .map((l) => col(l.trim()));

/** XML0 — check-in (TRANG_THAI_KCB), sent alone right after the first cost. */
export const XML0: TableSpec = {
  kind: 'XML0',
  root: 'CHI_TIEU_TRANG_THAI_KCB',
  list: 'DSACH_TRANG_THAI_KCB',
  row: 'TRANG_THAI_KCB',
  columns: cols(`
    MA_LK S100 x
    STT N10 x
    MA_BN S100 x
    HO_TEN S255 x
    SO_CCCD S15 -
    NGAY_SINH S12 x T
    GIOI_TINH N1 x
    MA_THE_BHYT S15 -
    MA_DKBD S5 -
    GT_THE_TU S8 - D
    GT_THE_DEN S8 - D
    MA_DOITUONG_KCB S4 x
    NGAY_VAO S12 x T
    NGAY_VAO_NOI_TRU S12 - T
    LY_DO_VNT Sn c
    MA_LY_DO_VNT S5 -
    MA_LOAI_KCB S2 x
    MA_CSKCB S5 x
    MA_DICH_VU S50 c
    TEN_DICH_VU S1024 c
    MA_THUOC S255 c
    TEN_THUOC S1024 c
    MA_VAT_TU S255 c
    TEN_VAT_TU S1024 c
    NGAY_YL S12 x T
    DU_PHONG Sn -`),
};

/** XML1 — the visit summary (TONG_HOP). */
export const XML1: TableSpec = {
  kind: 'XML1',
  root: 'TONG_HOP',
  columns: cols(`
    MA_LK S100 x
    STT N10 -
    MA_BN S100 x
    HO_TEN S255 x
    SO_CCCD S15 -
    NGAY_SINH S12 x T
    GIOI_TINH N1 x
    NHOM_MAU S5 -
    MA_QUOCTICH S3 x
    MA_DANTOC S2 x
    MA_NGHE_NGHIEP S5 x
    DIA_CHI S1024 x
    MATINH_CU_TRU S3 x
    MAHUYEN_CU_TRU S3 x
    MAXA_CU_TRU S5 x
    DIEN_THOAI S15 -
    MA_THE_BHYT Sn -
    MA_DKBD Sn -
    GT_THE_TU Sn - D
    GT_THE_DEN Sn - D
    NGAY_MIEN_CCT S12 -
    LY_DO_VV Sn x
    LY_DO_VNT Sn -
    MA_LY_DO_VNT S5 -
    CHAN_DOAN_VAO Sn x
    CHAN_DOAN_RV Sn x
    MA_BENH_CHINH S7 x
    MA_BENH_KT S100 -
    MA_BENH_YHCT S255 -
    MA_PTTT_QT S125 -
    MA_DOITUONG_KCB S4 x
    MA_NOI_DI S5 -
    MA_NOI_DEN S5 -
    MA_TAI_NAN N1 -
    NGAY_VAO S12 x T
    NGAY_VAO_NOI_TRU S12 - T
    NGAY_RA S12 x T
    GIAY_CHUYEN_TUYEN S50 -
    SO_NGAY_DTRI N3 x
    PP_DIEU_TRI Sn -
    KET_QUA_DTRI N1 x
    MA_LOAI_RV N1 x
    GHI_CHU Sn -
    NGAY_TTOAN S12 - T
    T_THUOC N15 x
    T_VTYT N15 x
    T_TONGCHI_BV N15 x
    T_TONGCHI_BH N15 x
    T_BNTT N15 x
    T_BNCCT N15 x
    T_BHTT N15 x
    T_NGUONKHAC N15 x
    T_BHTT_GDV N15 x
    NAM_QT N4 x
    THANG_QT N2 x
    MA_LOAI_KCB S2 x
    MA_KHOA S50 x
    MA_CSKCB S5 x
    MA_KHUVUC S2 -
    CAN_NANG S6 x
    CAN_NANG_CON S100 -
    NAM_NAM_LIEN_TUC S8 - D
    NGAY_TAI_KHAM S50 - DL
    MA_HSBA S100 x
    MA_TTDV S10 -
    DU_PHONG Sn -`),
};

/** XML2 — medicines (CHI_TIET_THUOC), one row per medicine the facility bills. */
export const XML2: TableSpec = {
  kind: 'XML2',
  root: 'CHITIEU_CHITIET_THUOC',
  list: 'DSACH_CHI_TIET_THUOC',
  row: 'CHI_TIET_THUOC',
  columns: cols(`
    MA_LK S100 x
    STT N10 x
    MA_THUOC S255 x
    MA_PP_CHEBIEN S255 -
    MA_CSKCB_THUOC S10 -
    MA_NHOM N2 x
    TEN_THUOC S1024 x
    DON_VI_TINH S50 x
    HAM_LUONG S1024 x
    DUONG_DUNG S4 x
    DANG_BAO_CHE S1024 -
    LIEU_DUNG S1024 x
    CACH_DUNG S1024 -
    SO_DANG_KY S255 4210
    TT_THAU S50 c
    PHAM_VI N1 x
    TYLE_TT_BH N3 x
    SO_LUONG N10 x
    DON_GIA N15 x
    THANH_TIEN_BV N15 x
    THANH_TIEN_BH N15 x
    T_NGUONKHAC_NSNN N15 x
    T_NGUONKHAC_VTNN N15 x
    T_NGUONKHAC_VTTN N15 x
    T_NGUONKHAC_CL N15 x
    T_NGUONKHAC N15 x
    MUC_HUONG N3 x
    T_BNTT N15 x
    T_BNCCT N15 x
    T_BHTT N15 x
    MA_KHOA S50 x
    MA_BAC_SI S255 4210
    MA_DICH_VU S255 4210
    NGAY_YL S12 x T
    NGAY_TH_YL S12 - T
    MA_PTTT N1 x
    NGUON_CTRA N1 x
    VET_THUONG_TP N1 -
    DU_PHONG Sn -`),
};

/** XML3 — services and supplies (CHI_TIET_DVKT): for a remote visit, the examination itself. */
export const XML3: TableSpec = {
  kind: 'XML3',
  root: 'CHITIEU_CHITIET_DVKT_VTYT',
  list: 'DSACH_CHI_TIET_DVKT',
  row: 'CHI_TIET_DVKT',
  columns: cols(`
    MA_LK S100 x
    STT N10 x
    MA_DICH_VU S50 4210
    MA_PTTT_QT S255 -
    MA_VAT_TU S255 4210
    MA_NHOM N2 x
    GOI_VTYT S3 -
    TEN_VAT_TU S1024 4210
    TEN_DICH_VU S1024 4210
    MA_XANG_DAU S20 c
    DON_VI_TINH S50 x
    PHAM_VI N1 x
    SO_LUONG N10 x
    DON_GIA_BV N15 x
    DON_GIA_BH N15 x
    TT_THAU S25 c
    TYLE_TT_DV N3 x
    TYLE_TT_BH N3 x
    THANH_TIEN_BV N15 x
    THANH_TIEN_BH N15 x
    T_TRANTT N15 -
    MUC_HUONG N3 x
    T_NGUONKHAC_NSNN N15 x
    T_NGUONKHAC_VTNN N15 x
    T_NGUONKHAC_VTTN N15 x
    T_NGUONKHAC_CL N15 x
    T_NGUONKHAC N15 x
    T_BNTT N15 x
    T_BNCCT N15 x
    T_BHTT N15 x
    MA_KHOA S50 x
    MA_GIUONG S50 -
    MA_BAC_SI S255 x
    NGUOI_THUC_HIEN S255 c
    MA_BENH S100 x
    MA_BENH_YHCT S255 -
    NGAY_YL S12 x T
    NGAY_TH_YL S12 c T
    NGAY_KQ S12 - T
    MA_PTTT N1 x
    VET_THUONG_TP N1 -
    PP_VO_CAM N1 -
    VI_TRI_TH_DVKT N3 -
    MA_MAY S1024 -
    MA_HIEU_SP S255 -
    TAI_SU_DUNG N1 -
    DU_PHONG Sn -`),
};

/** XML13 — referral paper (GIAYCHUYENTUYEN): only when MA_LOAI_RV is 2 or 5. */
export const XML13: TableSpec = {
  kind: 'XML13',
  root: 'CHI_TIEU_GIAYCHUYENTUYEN',
  columns: cols(`
    MA_LK S100 x
    SO_HOSO S50 x
    SO_CHUYENTUYEN S50 x
    GIAY_CHUYEN_TUYEN S50 x
    MA_CSKCB S5 -
    MA_NOI_DI S5 -
    MA_NOI_DEN S5 -
    HO_TEN S255 x
    NGAY_SINH S12 - T
    GIOI_TINH N1 -
    MA_QUOCTICH S3 -
    MA_DANTOC S2 -
    MA_NGHE_NGHIEP S5 -
    DIA_CHI S1024 -
    MA_THE_BHYT Sn -
    GT_THE_DEN Sn - D
    NGAY_VAO S12 - T
    NGAY_VAO_NOI_TRU S12 - T
    NGAY_RA S12 - T
    DAU_HIEU_LS Sn x
    CHAN_DOAN_RV Sn -
    QT_BENHLY Sn x
    TOMTAT_KQ Sn x
    PP_DIEUTRI Sn -
    MA_BENH_CHINH S7 -
    MA_BENH_KT S100 -
    MA_BENH_YHCT S255 -
    TEN_DICH_VU S1024 x
    TEN_THUOC S1024 -
    PP_DIEU_TRI Sn -
    MA_LOAI_RV N1 -
    MA_LYDO_CT N1 x
    HUONG_DIEU_TRI Sn x
    PHUONGTIEN_VC S255 x
    HOTEN_NGUOI_HT S255 -
    CHUCDANH_NGUOI_HT S255 -
    MA_BAC_SI S255 x
    MA_TTDV S10 x
    DU_PHONG Sn -`),
};

/** XML14 — re-examination appointment (GIAYHEN_KHAMLAI): when the visit sets a follow-up. */
export const XML14: TableSpec = {
  kind: 'XML14',
  root: 'CHI_TIEU_GIAYHEN_KHAMLAI',
  columns: cols(`
    MA_LK S100 x
    SO_GIAYHEN_KL S50 x
    MA_CSKCB S5 x
    HO_TEN S255 x
    NGAY_SINH S12 - T
    GIOI_TINH N1 -
    DIA_CHI S1024 -
    MA_THE_BHYT Sn -
    GT_THE_DEN Sn - D
    NGAY_VAO S12 - T
    NGAY_VAO_NOI_TRU S12 - T
    NGAY_RA S12 - T
    NGAY_HEN_KL S12 x T
    CHAN_DOAN_RV Sn -
    MA_BENH_CHINH S7 -
    MA_BENH_KT S100 -
    MA_BENH_YHCT S255 -
    MA_DOITUONG_KCB S4 -
    MA_BAC_SI S255 x
    MA_TTDV S10 x
    NGAY_CT S8 x D
    DU_PHONG Sn -`),
};

export const TABLES = { XML0, XML1, XML2, XML3, XML13, XML14 } as const;
