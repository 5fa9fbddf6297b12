/**
 * Labels of the national-formats pages: the consent screen a person sees when an app (SMART on
 * FHIR) asks for access, the chart's "open an app" menu, and the prescription kind of the national
 * e-prescription (TT 26/2025 letters c/n/h/y, src/visits/contract.ts). Vietnamese first; `en` is
 * typed by `vi`, so a missing label fails to compile.
 */
import { lang } from './i18n.ts';

type ScopeAction = 'read' | 'search' | 'create' | 'update' | 'delete';

const vi = {
  consentTitle: 'Cấp quyền cho ứng dụng',
  consentAsks: (app: string) => `Ứng dụng “${app}” xin quyền truy cập hồ sơ sức khỏe của bạn.`,
  consentReturnsTo: (host: string) => `Sau khi bạn trả lời, trình duyệt quay về ${host}.`,
  consentWants: 'Ứng dụng sẽ được:',
  consentNote:
    'Bạn có thể thu hồi quyền bất cứ lúc nào bằng cách đăng xuất khỏi mọi thiết bị. Mọi lần ứng dụng đọc hồ sơ đều được ghi lại trong nhật ký truy cập.',
  allow: 'Cho phép',
  refuse: 'Từ chối',
  consentGone: 'Yêu cầu cấp quyền không còn hiệu lực. Hãy mở lại ứng dụng.',
  redirecting: 'Đang chuyển về ứng dụng…',
  // scopes that are not about clinical data
  scopeLabels: {
    openid: 'Biết bạn là ai (đăng nhập một lần)',
    fhirUser: 'Biết hồ sơ người dùng của bạn (người bệnh hoặc nhân viên y tế)',
    profile: 'Xem họ tên của bạn',
    launch: 'Mở trong hồ sơ người bệnh đang xem',
    'launch/patient': 'Chỉ làm việc với hồ sơ của một người bệnh',
    'launch/encounter': 'Biết lượt khám đang mở',
    offline_access: 'Tiếp tục truy cập khi bạn không dùng ứng dụng (tối đa 30 ngày)',
    online_access: 'Tiếp tục truy cập trong lúc bạn còn dùng ứng dụng (tối đa 12 giờ)',
  } as Record<string, string>,
  contexts: { patient: 'Hồ sơ của bạn', user: 'Hồ sơ bạn được phép xem', system: 'Toàn hệ thống' } as Record<string, string>,
  actions: { read: 'xem', search: 'tìm kiếm', create: 'thêm mới', update: 'sửa', delete: 'xóa' } as Record<ScopeAction, string>,
  allTypes: 'mọi loại dữ liệu',
  types: {
    Patient: 'thông tin hành chính',
    Observation: 'chỉ số, kết quả xét nghiệm',
    Condition: 'chẩn đoán, bệnh',
    MedicationRequest: 'đơn thuốc',
    AllergyIntolerance: 'dị ứng',
    Encounter: 'lượt khám',
    Immunization: 'tiêm chủng',
    DiagnosticReport: 'kết quả cận lâm sàng',
    DocumentReference: 'tài liệu',
    Procedure: 'thủ thuật, phẫu thuật',
    Appointment: 'lịch hẹn',
  } as Record<string, string>,
  // chart: open an app (EHR launch)
  openApp: 'Mở ứng dụng',
  noApps: 'Chưa có ứng dụng nào được đăng ký.',
  openAppFailed: 'Không mở được ứng dụng',
  // prescription kind (national e-prescription)
  rxKind: 'Loại đơn thuốc',
  rxKinds: {
    c: 'Đơn thuốc thường (c)',
    n: 'Đơn thuốc gây nghiện (n)',
    h: 'Đơn thuốc hướng thần, tiền chất (h)',
    y: 'Đơn thuốc y học cổ truyền (y)',
  } as Record<string, string>,
  rxControlledNote: 'Thuốc gây nghiện, hướng thần, tiền chất: cần xác nhận thêm theo quy định kê đơn (TT 26/2025).',
  rxControlledSuggest: (drug: string, atc: string, kind: string) =>
    `${drug} thuộc nhóm thuốc kiểm soát đặc biệt (ATC ${atc}): cần kê trên ${kind.toLowerCase()}. Hãy kiểm tra lại loại đơn.`,
  rxConfirm: 'Tôi xác nhận đã kiểm tra chỉ định, liều và số ngày dùng theo quy định kê đơn thuốc kiểm soát đặc biệt.',
  rxConfirmNeeded: 'Đơn thuốc gây nghiện, hướng thần hoặc tiền chất cần bạn xác nhận và ghi số giấy tờ tùy thân trước khi kê.',
  rxIdNumber: 'Số CCCD, CMND hoặc hộ chiếu của người bệnh hoặc người nhận thuốc',
  // the hub's insurance claim for a concluded case conference (QĐ 130/4750)
  claimTitle: 'Hồ sơ giám định BHYT (QĐ 130/4750)',
  claimReady: 'Đủ dữ liệu: có thể ký số và gửi cổng giám định BHXH.',
  claimMissing: 'Chưa đủ dữ liệu để ký và gửi. Cần bổ sung:',
  claimTables: (t: string) => `Các bảng sẽ gửi: ${t}`,
  claimDownload: 'Tải XML đã ký số',
  claimSend: 'Ký số và gửi cổng BHXH',
  claimQueued: 'Đã ký và đưa vào hàng gửi cổng BHXH.',
  claimStatus: 'Trạng thái gửi',
  claimStatuses: { queued: 'Đang chờ gửi', 'checked-in': 'Đã check-in', sent: 'Đã gửi thành công', rejected: 'Bị từ chối', failed: 'Gửi lỗi' } as Record<
    string,
    string
  >,
  claimTransaction: 'Mã giao dịch cổng BHXH',
  claimAttempts: (n: number) => `Số lần gửi: ${n}`,
  claimMax: (n: number) => `tối đa ${n} ký tự`,
  claimProblems: {
    missing: 'còn thiếu',
    'too-long': 'quá dài',
    'not-a-number': 'không phải số',
    'bad-format': 'sai định dạng',
    'unknown-column': 'cột không có trong mẫu',
  } as Record<string, string>,
  claimColumns: {
    MA_DICH_VU: 'Mã dịch vụ hội chẩn (danh mục dịch vụ của cơ sở)',
    DON_GIA_BV: 'Đơn giá dịch vụ hội chẩn',
    NGUOI_THUC_HIEN: 'Chứng chỉ hành nghề của bác sĩ hội chẩn',
    MA_BAC_SI: 'Mã bác sĩ (chứng chỉ hành nghề)',
    MA_THE_BHYT: 'Số thẻ BHYT',
    MA_CSKCB: 'Mã cơ sở khám chữa bệnh',
    MA_BENH_CHINH: 'Mã bệnh chính (ICD-10)',
    SO_CCCD: 'Số CCCD của người bệnh',
    NGAY_SINH: 'Ngày sinh',
    HO_TEN: 'Họ tên người bệnh',
  } as Record<string, string>,
};
type Dict = typeof vi;

const en: Dict = {
  consentTitle: 'Give an app access',
  consentAsks: (app) => `The app “${app}” asks for access to your health record.`,
  consentReturnsTo: (host) => `After you answer, the browser goes back to ${host}.`,
  consentWants: 'The app will be able to:',
  consentNote: 'You can withdraw access at any time by signing out everywhere. Every read by the app is recorded in the access log.',
  allow: 'Allow',
  refuse: 'Refuse',
  consentGone: 'This request is no longer valid. Open the app again.',
  redirecting: 'Returning to the app…',
  scopeLabels: {
    openid: 'Know who you are (single sign-on)',
    fhirUser: 'Know your user record (patient or health worker)',
    profile: 'See your name',
    launch: 'Open inside the patient chart you are viewing',
    'launch/patient': 'Work with one patient’s record only',
    'launch/encounter': 'Know the open visit',
    offline_access: 'Keep access while you are not using the app (up to 30 days)',
    online_access: 'Keep access while you are using the app (up to 12 hours)',
  },
  contexts: { patient: 'Your record', user: 'Records you may see', system: 'The whole system' },
  actions: { read: 'read', search: 'search', create: 'add', update: 'change', delete: 'delete' },
  allTypes: 'all kinds of data',
  types: {
    Patient: 'personal details',
    Observation: 'measurements and lab results',
    Condition: 'diagnoses',
    MedicationRequest: 'prescriptions',
    AllergyIntolerance: 'allergies',
    Encounter: 'visits',
    Immunization: 'immunisations',
    DiagnosticReport: 'diagnostic reports',
    DocumentReference: 'documents',
    Procedure: 'procedures',
    Appointment: 'appointments',
  },
  openApp: 'Open an app',
  noApps: 'No app is registered yet.',
  openAppFailed: 'Could not open the app',
  rxKind: 'Prescription kind',
  rxKinds: {
    c: 'Ordinary (c)',
    n: 'Narcotic (n)',
    h: 'Psychotropic or precursor (h)',
    y: 'Traditional medicine (y)',
  },
  rxControlledNote: 'Narcotic, psychotropic and precursor drugs need an extra confirmation under the prescribing rules (Circular 26/2025).',
  rxControlledSuggest: (drug, atc, kind) => `${drug} is under special control (ATC ${atc}): it needs a prescription of kind ${kind}. Check the kind.`,
  rxConfirm: 'I confirm I checked the indication, dose and number of days under the rules for specially controlled drugs.',
  rxConfirmNeeded: 'A narcotic, psychotropic or precursor prescription needs your confirmation and an ID number first.',
  rxIdNumber: 'ID card or passport number of the patient or the person collecting',
  claimTitle: 'Health-insurance claim (QĐ 130/4750)',
  claimReady: 'Complete: it can be signed and sent to the BHXH gateway.',
  claimMissing: 'Not complete enough to sign and send. Still needed:',
  claimTables: (t) => `Tables to send: ${t}`,
  claimDownload: 'Download the signed XML',
  claimSend: 'Sign and send to the BHXH gateway',
  claimQueued: 'Signed and queued for the BHXH gateway.',
  claimStatus: 'Sending status',
  claimStatuses: { queued: 'Waiting to be sent', 'checked-in': 'Checked in', sent: 'Sent', rejected: 'Rejected', failed: 'Sending failed' },
  claimTransaction: 'BHXH gateway transaction code',
  claimAttempts: (n) => `Attempts: ${n}`,
  claimMax: (n) => `at most ${n} characters`,
  claimProblems: {
    missing: 'missing',
    'too-long': 'too long',
    'not-a-number': 'not a number',
    'bad-format': 'wrong format',
    'unknown-column': 'not a column of the template',
  },
  claimColumns: {
    MA_DICH_VU: 'Consultation service code (the facility’s service list)',
    DON_GIA_BV: 'Price of the consultation service',
    NGUOI_THUC_HIEN: 'Practising certificate of the consulting doctor',
    MA_BAC_SI: 'Doctor code (practising certificate)',
    MA_THE_BHYT: 'Health-insurance card number',
    MA_CSKCB: 'Facility code',
    MA_BENH_CHINH: 'Main diagnosis code (ICD-10)',
    SO_CCCD: 'Patient’s citizen ID number',
    NGAY_SINH: 'Date of birth',
    HO_TEN: 'Patient’s name',
  },
};

export function tf(): Dict {
  return lang.value === 'en' ? en : vi;
}

/** One clinical scope in words: "Hồ sơ của bạn: xem, tìm kiếm — chỉ số, kết quả xét nghiệm". */
export function scopeText(s: { context: string; resourceType: string; actions: ScopeAction[] }): string {
  const d = tf();
  const what = s.resourceType === '*' ? d.allTypes : (d.types[s.resourceType] ?? s.resourceType);
  return `${d.contexts[s.context] ?? s.context}: ${s.actions.map((a) => d.actions[a]).join(', ')} — ${what}`;
}
