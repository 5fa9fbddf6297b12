/**
 * The EMR exchange document (hồ sơ bệnh án điện tử, TT 13/2025/TT-BYT; the National Health
 * Information Centre's guidance CV 365) as far as the public sources know it — see
 * docs/national-formats.md "EMR exchange" [U, S8: one secondary note that read the signed PDF]:
 * root `HoSoBenhAn`, the 11 groups in this order, typed and length-limited fields, of which only
 * `cccd_so` (N 15), `quanhuyen_ma`, `mathuocvattu_byt` and `chuky_hoten` (a name, not a signature)
 * are named. No namespace, XSD or sample was found, and no signature field exists.
 *
 * Rules: data only. A field the sources name has `named: true`; every other field is OURS, a
 * placeholder until the appendix "Mô tả dữ liệu trao đổi hồ sơ bệnh án điện tử" is read: its
 * element name starts with `x_` so nobody mistakes it for the Ministry's, and it is listed in the
 * document's `ChuaXacDinh` section and in the API answer. Types: 'N' digits, 'C' text, 'D' a date
 * yyyyMMdd, 'T' a time yyyyMMddHHmm (the QĐ 130 formats; the EMR appendix's own formats are not
 * known [U]); `max` is a length (ours for placeholders).
 */

export type FieldType = 'N' | 'C' | 'D' | 'T';

export interface FieldSpec {
  name: string;
  type: FieldType;
  max: number;
  /** Named by the public sources (S8); false = our placeholder (name starts with x_). */
  named: boolean;
  required?: boolean;
  note?: string;
}

export interface GroupSpec {
  /** Group element name, as the sources list it. */
  name: string;
  /** Row element inside the group (ours: the sources do not say how rows repeat) [U]. */
  row: string;
  /** What the group holds, in Vietnamese and English. */
  title: { vi: string; en: string };
  fields: FieldSpec[];
}

const f = (name: string, type: FieldType, max: number, extra: Partial<FieldSpec> = {}): FieldSpec => ({
  name,
  type,
  max,
  named: !name.startsWith('x_'),
  ...extra,
});

/** The 11 groups in the order the source lists them. */
export const EMR_GROUPS: GroupSpec[] = [
  {
    name: 'ThongTinBenhNhan',
    row: 'x_BenhNhan',
    title: { vi: 'Thông tin người bệnh', en: 'Patient' },
    fields: [
      f('x_ma_benh_nhan', 'C', 64, { required: true }),
      f('cccd_so', 'N', 15, { note: 'Số định danh cá nhân (12 chữ số); N 15 theo nguồn S8' }),
      f('x_ho_ten', 'C', 255, { required: true }),
      f('x_ngay_sinh', 'D', 8, { required: true }),
      f('x_gioi_tinh', 'N', 1, { note: '1 nam, 2 nữ, 3 chưa xác định (mã của QĐ 130) [U]' }),
      f('x_tinh_ma', 'C', 3),
      f('quanhuyen_ma', 'C', 3, { note: 'Cấp huyện không còn từ 01/07/2025: để trống [U]' }),
      f('x_xa_ma', 'C', 5),
      f('x_dia_chi', 'C', 1024),
      f('x_dien_thoai', 'C', 15),
    ],
  },
  {
    name: 'ThongTinVaoVien',
    row: 'x_LuotKham',
    title: { vi: 'Thông tin vào viện (lượt khám)', en: 'Admission (visit)' },
    fields: [
      f('x_ma_luot_kham', 'C', 64, { required: true }),
      f('x_ngay_vao', 'T', 12, { required: true }),
      f('x_ngay_ra', 'T', 12),
      f('x_hinh_thuc', 'C', 50, { note: 'từ xa (virtual) hoặc tại chỗ' }),
      f('x_ly_do', 'C', 1024),
      f('x_ma_cskcb', 'C', 5),
    ],
  },
  {
    name: 'ThongTinDieuTri',
    row: 'x_DieuTri',
    title: { vi: 'Thông tin điều trị (chẩn đoán)', en: 'Treatment (diagnoses)' },
    fields: [
      f('x_ma_benh', 'C', 7, { note: 'ICD-10' }),
      f('x_ten_benh', 'C', 1024, { required: true }),
      f('x_ngay_chan_doan', 'T', 12),
      f('x_trang_thai', 'C', 20),
      f('chuky_hoten', 'C', 255, { note: 'Họ tên người ghi nhận — chỉ có tên, không phải chữ ký số (S8)' }),
    ],
  },
  {
    name: 'YLenhThuocVatTu',
    row: 'x_YLenh',
    title: { vi: 'Y lệnh thuốc, vật tư', en: 'Medicine and supply orders' },
    fields: [
      f('mathuocvattu_byt', 'C', 255, { note: 'Mã thuốc/vật tư theo danh mục Bộ Y tế (mã hoạt chất của cơ sở khi có)' }),
      f('x_ten_thuoc', 'C', 1024, { required: true }),
      f('x_so_luong', 'N', 10),
      f('x_don_vi', 'C', 50),
      f('x_cach_dung', 'C', 1024),
      f('x_ngay_y_lenh', 'T', 12),
      f('x_ma_don_thuoc', 'C', 14, { note: 'Mã đơn thuốc quốc gia khi có' }),
      f('chuky_hoten', 'C', 255),
    ],
  },
  {
    name: 'PhieuChiDinh',
    row: 'x_ChiDinh',
    title: { vi: 'Phiếu chỉ định (dịch vụ, hội chẩn)', en: 'Orders (services, consults)' },
    fields: [f('x_ma_dich_vu', 'C', 50), f('x_ten_dich_vu', 'C', 1024, { required: true }), f('x_ngay_chi_dinh', 'T', 12), f('x_trang_thai', 'C', 20)],
  },
  {
    name: 'KetQuaChanDoanHinhAnh',
    row: 'x_KetQua',
    title: { vi: 'Kết quả chẩn đoán hình ảnh', en: 'Imaging results' },
    fields: [f('x_ten', 'C', 1024, { required: true }), f('x_ket_luan', 'C', 4000), f('x_ngay_ket_qua', 'T', 12), f('chuky_hoten', 'C', 255)],
  },
  {
    name: 'KetQuaXetNghiem',
    row: 'x_KetQua',
    title: { vi: 'Kết quả xét nghiệm, chỉ số', en: 'Laboratory results and measurements' },
    fields: [
      f('x_ma_chi_so', 'C', 50, { note: 'LOINC' }),
      f('x_ten_chi_so', 'C', 255, { required: true }),
      f('x_gia_tri', 'C', 100),
      f('x_don_vi', 'C', 50),
      f('x_ngay_kq', 'T', 12),
    ],
  },
  {
    name: 'GiayChuyenVien',
    row: 'x_ChuyenVien',
    title: { vi: 'Giấy chuyển viện', en: 'Transfer letters' },
    fields: [f('x_noi_chuyen_den', 'C', 255), f('x_ly_do', 'C', 1024), f('x_ngay_chuyen', 'T', 12)],
  },
  { name: 'HoSoCapCuu', row: 'x_CapCuu', title: { vi: 'Hồ sơ cấp cứu', en: 'Emergency records' }, fields: [f('x_ngay', 'T', 12), f('x_noi_dung', 'C', 4000)] },
  {
    name: 'PhieuThuThuat',
    row: 'x_ThuThuat',
    title: { vi: 'Phiếu thủ thuật', en: 'Minor procedures' },
    fields: [f('x_ten', 'C', 1024, { required: true }), f('x_ngay', 'T', 12)],
  },
  {
    name: 'PhieuPhauThuat',
    row: 'x_PhauThuat',
    title: { vi: 'Phiếu phẫu thuật', en: 'Operations' },
    fields: [f('x_ten', 'C', 1024, { required: true }), f('x_ngay', 'T', 12)],
  },
];

/** What the public sources do not define: every placeholder, in one list (document, API, docs). */
export const UNDEFINED_IN_SOURCES: string[] = [
  'Lược đồ chi tiết từng nhóm (tên, kiểu, độ dài trường): chỉ biết cccd_so (N 15), quanhuyen_ma, mathuocvattu_byt, chuky_hoten',
  'Namespace, XSD, tài liệu mẫu XML/JSON, điểm nhận quốc gia',
  'Cách lặp các dòng trong một nhóm (phần tử dòng x_… là của chúng tôi)',
  'Định dạng ngày giờ của phụ lục (dùng yyyyMMdd / yyyyMMddHHmm như QĐ 130)',
  'Chữ ký số: không có trường chữ ký — bản PDF đã ký phải gửi kèm',
  ...EMR_GROUPS.flatMap((g) => g.fields.filter((x) => !x.named).map((x) => `${g.name}/${x.name}`)),
];
