/**
 * Readable names, in Vietnamese and English, for what the audit trail records: actions, record
 * types, outcomes, and what a refused request tried to do. One table for the officer's viewer
 * (web) and the CSV export (server), so both say the same thing.
 *
 * Rules: pure data and pure functions — the web app imports this at run time; nothing here
 * imports server code. An unknown action falls back to its area's name, never to a bare code.
 */
type L = { vi: string; en: string };

export const ACTION_LABELS: Record<string, L> = {
  read: { vi: 'Xem', en: 'Viewed' },
  search: { vi: 'Tìm kiếm', en: 'Searched' },
  create: { vi: 'Tạo mới', en: 'Created' },
  update: { vi: 'Cập nhật', en: 'Updated' },
  delete: { vi: 'Xóa', en: 'Deleted' },
  export: { vi: 'Xuất dữ liệu', en: 'Exported' },
  denied: { vi: 'Bị từ chối', en: 'Denied' },
  login: { vi: 'Đăng nhập', en: 'Signed in' },
  'login.mfa': { vi: 'Xác thực hai lớp', en: 'Second factor' },
  logout: { vi: 'Đăng xuất', en: 'Signed out' },
  'logout.all': { vi: 'Đăng xuất mọi nơi', en: 'Signed out everywhere' },
  'mfa.enrol': { vi: 'Đăng ký xác thực hai lớp', en: 'Enrolled a second factor' },
  'role.switch': { vi: 'Đổi vai trò', en: 'Switched role' },
  'session.revoke': { vi: 'Kết thúc phiên đăng nhập', en: 'Ended a session' },
  'token.issue': { vi: 'Cấp mã truy cập (dòng lệnh)', en: 'Issued an access token (command line)' },
  'auth.rate-limited': { vi: 'Quá nhiều yêu cầu', en: 'Rate limited' },
  'break-glass': { vi: 'Mở hồ sơ khẩn cấp (phá kính)', en: 'Emergency access (break-the-glass)' },
  'break-glass.review': { vi: 'Xem xét truy cập khẩn cấp', en: 'Reviewed an emergency access' },
  'breakglass.use': { vi: 'Truy cập khẩn cấp', en: 'Emergency access' },
  'access-log.read': { vi: 'Xem nhật ký truy cập', en: 'Viewed the access log' },
  'audit.read': { vi: 'Xem nhật ký hệ thống', en: 'Viewed the audit trail' },
  'audit.export': { vi: 'Xuất nhật ký hệ thống (CSV)', en: 'Exported the audit trail (CSV)' },
  'audit.verify': { vi: 'Kiểm tra chuỗi nhật ký', en: 'Checked the audit chain' },
  'audit.retention': { vi: 'Xóa nhật ký quá hạn lưu', en: 'Removed expired audit entries' },
  'audit.retention.run': { vi: 'Xóa nhật ký quá hạn lưu', en: 'Removed expired audit entries' },
  'account.create': { vi: 'Tạo tài khoản', en: 'Created an account' },
  'account.disable': { vi: 'Khóa tài khoản', en: 'Disabled an account' },
  'account.enable': { vi: 'Mở lại tài khoản', en: 'Enabled an account' },
  'account.list': { vi: 'Xem danh sách tài khoản', en: 'Listed accounts' },
  'account.roles.set': { vi: 'Đổi vai trò của tài khoản', en: "Changed an account's roles" },
  'account.mfa.reset': { vi: 'Đặt lại xác thực hai lớp', en: 'Reset a second factor' },
  'account.inactive': { vi: 'Khóa tài khoản lâu không dùng', en: 'Disabled an unused account' },
  'oauth.authorize': { vi: 'Cho ứng dụng truy cập', en: 'Authorised an app' },
  'oauth.token': { vi: 'Ứng dụng lấy mã truy cập', en: 'App obtained a token' },
  'oauth.client.create': { vi: 'Đăng ký ứng dụng', en: 'Registered an app' },
  'oauth.client.list': { vi: 'Xem danh sách ứng dụng', en: 'Listed apps' },
  'oauth.client.revoke': { vi: 'Thu hồi ứng dụng', en: 'Revoked an app' },
  'facility.list': { vi: 'Xem danh sách cơ sở', en: 'Listed facilities' },
  'keys.rotate': { vi: 'Đổi khóa ký', en: 'Rotated the signing key' },
  'demo.accounts.show': { vi: 'In tài khoản thử nghiệm', en: 'Printed the demo accounts' },
  'consult.view': { vi: 'Xem ca hội chẩn', en: 'Viewed a consultation' },
  'consult.list': { vi: 'Xem danh sách ca hội chẩn', en: 'Listed consultations' },
  'consult.request': { vi: 'Gửi yêu cầu hội chẩn', en: 'Requested a consultation' },
  'consult.triage': { vi: 'Tiếp nhận / phân loại hội chẩn', en: 'Triaged a consultation' },
  'consult.schedule': { vi: 'Xếp lịch phiên hội chẩn', en: 'Scheduled a case conference' },
  'consult.sign': { vi: 'Ký kết luận hội chẩn', en: 'Signed a conclusion' },
  'consult.meeting': { vi: 'Phiên hội chẩn', en: 'Case conference' },
  'consult.verify': { vi: 'Kiểm tra chữ ký kết luận', en: 'Verified a conclusion' },
  'consult.submit': { vi: 'Gửi yêu cầu hội chẩn', en: 'Submitted a consultation request' },
  'consult.accept': { vi: 'Nhận ca hội chẩn', en: 'Accepted a consultation' },
  'consult.acknowledge': { vi: 'Xác nhận đã nhận kết luận', en: 'Acknowledged a conclusion' },
  'consult.follow-up': { vi: 'Ghi kết quả theo dõi sau hội chẩn', en: 'Recorded the follow-up' },
  'consult.meeting-list': { vi: 'Xem danh sách phiên hội chẩn', en: 'Listed case conferences' },
  'consult.eligibility-load': { vi: 'Nạp danh mục Thông tư 30', en: 'Loaded the Circular 30 list' },
  accept: { vi: 'Nhận ca hội chẩn', en: 'Accepted a consultation' },
  decline: { vi: 'Từ chối ca hội chẩn', en: 'Declined a consultation' },
  'device.register': { vi: 'Đăng ký thiết bị', en: 'Registered a device' },
  'device.rotate': { vi: 'Đổi khóa thiết bị', en: 'Rotated a device key' },
  'device.revoke': { vi: 'Thu hồi thiết bị', en: 'Revoked a device' },
  'device.connect': { vi: 'Thiết bị kết nối', en: 'Device connected' },
  'device.ingest': { vi: 'Nhận số đo từ thiết bị', en: 'Device readings received' },
  'devices.manage': { vi: 'Quản lý thiết bị', en: 'Managed devices' },
  'alert.acknowledge': { vi: 'Xác nhận cảnh báo', en: 'Acknowledged an alert' },
  'alert.escalate': { vi: 'Chuyển cảnh báo lên cơ sở', en: 'Escalated an alert' },
  'monitoring.targets': { vi: 'Đặt ngưỡng theo dõi', en: 'Set monitoring targets' },
  'monitoring.view': { vi: 'Xem theo dõi từ xa', en: 'Viewed remote monitoring' },
  'visit.book': { vi: 'Đặt lịch khám từ xa', en: 'Booked a remote visit' },
  'visit.cancel': { vi: 'Hủy lịch khám', en: 'Cancelled a visit' },
  'visit.reschedule': { vi: 'Đổi giờ khám', en: 'Moved a visit' },
  'visit.complete': { vi: 'Ghi kết quả khám', en: 'Recorded a visit' },
  'visit.family-link': { vi: 'Ghi nhận người thân quản lý hồ sơ', en: 'Recorded a family manager' },
  'visit.family-unlink': { vi: 'Thôi quản lý hồ sơ người thân', en: 'Ended a family link' },
  'visits.provide': { vi: 'Khám từ xa', en: 'Remote examination' },
  'visits.schedule': { vi: 'Xếp lịch khám từ xa', en: 'Scheduled remote visits' },
  'record.own': { vi: 'Xem hồ sơ của mình', en: 'Viewed own record' },
  'video.join': { vi: 'Vào cuộc gọi video', en: 'Joined a video call' },
  'video.leave': { vi: 'Rời cuộc gọi video', en: 'Left a video call' },
  'video.open': { vi: 'Mở phòng gọi video', en: 'Opened a video room' },
  'video.room': { vi: 'Mở trang phòng gọi video', en: 'Opened a video room page' },
  'video.invite': { vi: 'Mời vào cuộc gọi video', en: 'Invited to a video call' },
  'video.attendance': { vi: 'Xem danh sách tham dự', en: 'Viewed attendance' },
  'video.chat': { vi: 'Nhắn tin trong cuộc gọi', en: 'Chatted in a call' },
  'video.recording.consent': { vi: 'Trả lời đề nghị ghi hình', en: 'Answered a recording request' },
  'video.recording.archive': { vi: 'Lưu bản ghi hình vào hồ sơ', en: 'Archived a recording' },
  'video.recordings.list': { vi: 'Xem danh sách bản ghi hình', en: 'Listed recordings' },
  'video.recordings.read': { vi: 'Xem bản ghi hình', en: 'Watched a recording' },
  'device.fleet': { vi: 'Xem danh sách thiết bị của cơ sở', en: 'Viewed the facility device fleet' },
  'consult.meeting.remind': { vi: 'Nhắc lịch phiên hội chẩn', en: 'Sent meeting reminders' },
  'consent.access-holders': { vi: 'Xem ai đang có quyền xem hồ sơ', en: 'Viewed who holds access to the record' },
  'cds.call': { vi: 'Gửi dữ liệu cho dịch vụ AI/CDS', en: 'Data sent to an AI/CDS service' },
  'cds.accept': { vi: 'Chấp nhận gợi ý của dịch vụ AI (bản nháp)', en: 'Accepted an AI suggestion (draft)' },
  'cds.override': { vi: 'Bỏ qua gợi ý của dịch vụ AI (có lý do)', en: 'Overrode an AI card (with a reason)' },
  'cds.confirm': { vi: 'Bác sĩ xác nhận gợi ý của dịch vụ AI', en: 'Confirmed an AI-suggested draft' },
  'cds.register': { vi: 'Đăng ký dịch vụ AI/CDS', en: 'Registered an AI/CDS service' },
  'cds.approved': { vi: 'Phê duyệt dịch vụ AI/CDS', en: 'Approved an AI/CDS service' },
  'cds.suspended': { vi: 'Tạm dừng dịch vụ AI/CDS', en: 'Suspended an AI/CDS service' },
  'cds.withdrawn': { vi: 'Thu hồi dịch vụ AI/CDS', en: 'Withdrew an AI/CDS service' },
  'cds.scopes': { vi: 'Đổi phạm vi dữ liệu của dịch vụ AI/CDS', en: "Changed an AI/CDS service's data scopes" },
  'imaging.upload': { vi: 'Gửi ảnh chụp (DICOM)', en: 'Sent imaging (DICOM)' },
  'imaging.view': { vi: 'Xem ảnh chụp', en: 'Viewed imaging' },
  'imaging.report': { vi: 'Đọc phim, ký kết quả chẩn đoán hình ảnh', en: 'Reported an imaging study' },
  'programme.demo': { vi: 'Nạp dữ liệu minh họa', en: 'Loaded demo data' },
};

/** The area (first part of an action) when the action itself has no label. */
const AREA_LABELS: Record<string, L> = {
  account: { vi: 'Tài khoản', en: 'Account' },
  audit: { vi: 'Nhật ký hệ thống', en: 'Audit trail' },
  consult: { vi: 'Hội chẩn từ xa', en: 'Teleconsultation' },
  device: { vi: 'Thiết bị đo', en: 'Device' },
  devices: { vi: 'Thiết bị đo', en: 'Devices' },
  alert: { vi: 'Cảnh báo', en: 'Alert' },
  visit: { vi: 'Khám từ xa', en: 'Remote visit' },
  visits: { vi: 'Khám từ xa', en: 'Remote visits' },
  video: { vi: 'Cuộc gọi video', en: 'Video call' },
  family: { vi: 'Người thân quản lý hồ sơ', en: 'Family manager' },
  oauth: { vi: 'Ứng dụng kết nối', en: 'Connected app' },
  system: { vi: 'Hệ thống', en: 'System' },
  consent: { vi: 'Đồng ý chia sẻ', en: 'Consent' },
  monitoring: { vi: 'Theo dõi từ xa', en: 'Remote monitoring' },
  cds: { vi: 'Hỗ trợ quyết định lâm sàng (AI/CDS)', en: 'Decision support (AI/CDS)' },
  imaging: { vi: 'Chẩn đoán hình ảnh', en: 'Imaging' },
  programme: { vi: 'Chương trình khám chữa bệnh từ xa', en: 'Telemedicine programme' },
  training: { vi: 'Đào tạo từ xa', en: 'Remote training' },
  surveillance: { vi: 'Giám sát dịch bệnh', en: 'Disease surveillance' },
  formats: { vi: 'Chuẩn dữ liệu quốc gia', en: 'National data formats' },
};

export const RESOURCE_LABELS: Record<string, L> = {
  Patient: { vi: 'Người bệnh', en: 'Patient' },
  Observation: { vi: 'Chỉ số / xét nghiệm', en: 'Observation' },
  Condition: { vi: 'Chẩn đoán', en: 'Diagnosis' },
  AllergyIntolerance: { vi: 'Dị ứng', en: 'Allergy' },
  MedicationRequest: { vi: 'Đơn thuốc', en: 'Prescription' },
  MedicationStatement: { vi: 'Thuốc đang dùng', en: 'Medication' },
  Encounter: { vi: 'Lần khám', en: 'Encounter' },
  Appointment: { vi: 'Lịch hẹn', en: 'Appointment' },
  ServiceRequest: { vi: 'Yêu cầu hội chẩn / chỉ định', en: 'Request' },
  Task: { vi: 'Công việc hội chẩn', en: 'Consultation task' },
  DiagnosticReport: { vi: 'Kết quả / kết luận', en: 'Report' },
  DocumentReference: { vi: 'Tài liệu', en: 'Document' },
  Binary: { vi: 'Tệp đính kèm', en: 'Attachment' },
  Consent: { vi: 'Đồng ý chia sẻ', en: 'Consent' },
  Communication: { vi: 'Trao đổi', en: 'Message' },
  Device: { vi: 'Thiết bị', en: 'Device' },
  Flag: { vi: 'Cảnh báo', en: 'Alert' },
  CarePlan: { vi: 'Kế hoạch chăm sóc', en: 'Care plan' },
  EpisodeOfCare: { vi: 'Chương trình quản lý', en: 'Care programme' },
  CareTeam: { vi: 'Nhóm chăm sóc', en: 'Care team' },
  RelatedPerson: { vi: 'Người thân', en: 'Family member' },
  QuestionnaireResponse: { vi: 'Phiếu trả lời', en: 'Questionnaire answers' },
  Organization: { vi: 'Cơ sở y tế', en: 'Facility' },
  Practitioner: { vi: 'Nhân viên y tế', en: 'Practitioner' },
  PractitionerRole: { vi: 'Vai trò nhân viên', en: 'Practitioner role' },
  HealthcareService: { vi: 'Dịch vụ', en: 'Service' },
  Location: { vi: 'Điểm cầu / địa điểm', en: 'Location' },
  Schedule: { vi: 'Lịch làm việc', en: 'Schedule' },
  Slot: { vi: 'Giờ khám', en: 'Slot' },
  AuditEvent: { vi: 'Nhật ký', en: 'Audit event' },
  Bundle: { vi: 'Gói dữ liệu', en: 'Bundle' },
  ImagingStudy: { vi: 'Ảnh chụp chẩn đoán', en: 'Imaging study' },
  Endpoint: { vi: 'Nơi lưu ảnh chụp', en: 'Image store' },
  Composition: { vi: 'Phiếu khám, kết luận', en: 'Visit note, conclusion' },
  Immunization: { vi: 'Tiêm chủng', en: 'Immunisation' },
  DetectedIssue: { vi: 'Cảnh báo kê đơn', en: 'Prescribing warning' },
  ChargeItem: { vi: 'Chi phí khám', en: 'Charge' },
  Medication: { vi: 'Thuốc', en: 'Medication' },
};

/**
 * Why the platform itself touched a record (the reason its system repository was opened with):
 * the reasons a person may meet in their access log, in words; any other one reads as the
 * platform's own work in Vietnamese, and as written in English.
 */
const SYSTEM_REASONS: Record<string, L> = {
  'demo data': { vi: 'Nạp dữ liệu minh họa', en: 'Demo data' },
  'programme demo data': { vi: 'Nạp dữ liệu minh họa', en: 'Demo data' },
  'surveillance demo data': { vi: 'Nạp dữ liệu minh họa', en: 'Demo data' },
  'prescription check (QR code)': { vi: 'Nhà thuốc kiểm tra mã QR của đơn thuốc', en: 'A pharmacy checked the prescription QR code' },
  'prescription lookup': { vi: 'Tra cứu đơn thuốc', en: 'Prescription lookup' },
  'e-prescription sending': { vi: 'Gửi đơn thuốc điện tử lên hệ thống quốc gia', en: 'Sending the e-prescription' },
  'e-prescription status': { vi: 'Cập nhật trạng thái đơn thuốc điện tử', en: 'E-prescription status' },
  'insurance claim sending': { vi: 'Gửi hồ sơ thanh toán bảo hiểm y tế', en: 'Sending the insurance claim' },
  'insurance claim status': { vi: 'Cập nhật trạng thái thanh toán bảo hiểm y tế', en: 'Insurance claim status' },
  'insurance claim sent: transaction code kept': { vi: 'Lưu mã giao dịch thanh toán bảo hiểm y tế', en: 'Insurance claim sent' },
  'device ingest': { vi: 'Nhận số đo từ thiết bị của bạn', en: 'Readings from your device' },
  'alert escalation': { vi: 'Chuyển cảnh báo sức khỏe lên cơ sở y tế', en: 'Alert escalation' },
  'pre-visit questionnaire': { vi: 'Phiếu hỏi trước khi khám', en: 'Pre-visit questionnaire' },
  'meeting reminders: notify the invited before a case conference starts': { vi: 'Nhắc lịch phiên hội chẩn', en: 'Case-conference reminders' },
  'programme: recompute the indicators from the record': { vi: 'Tính lại chỉ số tổng hợp (không lộ danh tính)', en: 'Recomputing aggregate indicators' },
  'consent page: names of who holds access to a record': { vi: 'Hiện tên người đang có quyền xem hồ sơ', en: 'Names of who holds access' },
  'access log: facility names': { vi: 'Hiện tên cơ sở trong nhật ký truy cập', en: 'Facility names for the access log' },
  'imaging store endpoint': { vi: 'Lưu ảnh chụp', en: 'Storing imaging' },
  'administration: device counts per facility': { vi: 'Đếm thiết bị của từng cơ sở', en: 'Device counts per facility' },
  'data-protection review: names of the people, patients and facilities in the audit entries shown': {
    vi: 'Hiện tên người, người bệnh, cơ sở trong nhật ký cho cán bộ bảo vệ dữ liệu',
    en: 'Names in the audit entries shown to the officer',
  },
  'device fleet: facility name': { vi: 'Hiện tên cơ sở trong danh sách thiết bị', en: 'Facility name for the device fleet' },
  'remote-examination catalogue': { vi: 'Danh mục dịch vụ khám từ xa', en: 'Remote-examination catalogue' },
  'eligibility list in force': { vi: 'Danh mục Thông tư 30 đang áp dụng', en: 'Circular 30 list in force' },
  'break-the-glass: the requested patient exists': { vi: 'Kiểm tra hồ sơ được mở khẩn cấp có tồn tại', en: 'Emergency access: the patient exists' },
  'account administration: authority over the person bound to an account': {
    vi: 'Kiểm tra quyền quản trị với người gắn với tài khoản',
    en: 'Authority over the person bound to an account',
  },
  'cds registry: service status': { vi: 'Trạng thái dịch vụ AI/CDS', en: 'AI/CDS service status' },
};

export function systemReasonLabel(reason: string | undefined, lang: 'vi' | 'en'): string {
  if (!reason) return lang === 'vi' ? 'Việc tự động của hệ thống' : "The platform's own work";
  return SYSTEM_REASONS[reason]?.[lang] ?? (lang === 'vi' ? 'Việc tự động của hệ thống' : reason);
}

export const OUTCOME_LABELS: Record<string, L> = {
  success: { vi: 'Thành công', en: 'Succeeded' },
  denied: { vi: 'Bị từ chối', en: 'Denied' },
  failure: { vi: 'Thất bại', en: 'Failed' },
};

/** What part of the platform a refused route belongs to (longest prefix wins). */
const ROUTE_AREAS: [string, L][] = [
  ['/fhir/R4/AuditEvent', { vi: 'nhật ký hệ thống (FHIR)', en: 'the audit trail (FHIR)' }],
  ['/fhir/R4', { vi: 'hồ sơ (FHIR)', en: 'records (FHIR)' }],
  ['/api/admin', { vi: 'quản trị', en: 'administration' }],
  ['/api/accounts', { vi: 'quản trị tài khoản', en: 'account administration' }],
  ['/api/oauth', { vi: 'ứng dụng kết nối', en: 'connected apps' }],
  ['/api/audit', { vi: 'nhật ký hệ thống', en: 'the audit trail' }],
  ['/api/break-glass', { vi: 'truy cập khẩn cấp', en: 'emergency access' }],
  ['/api/consults', { vi: 'hội chẩn từ xa', en: 'teleconsultation' }],
  ['/api/meetings', { vi: 'phiên hội chẩn', en: 'case conferences' }],
  ['/api/devices', { vi: 'thiết bị', en: 'devices' }],
  ['/api/alerts', { vi: 'cảnh báo', en: 'alerts' }],
  ['/api/visits', { vi: 'khám từ xa', en: 'remote visits' }],
  ['/api/video', { vi: 'cuộc gọi video', en: 'video calls' }],
  ['/api/me', { vi: 'hồ sơ cá nhân', en: 'personal record' }],
  ['/api/patients', { vi: 'hồ sơ người bệnh', en: 'patient records' }],
  ['/api/programmes', { vi: 'chương trình quản lý', en: 'care programmes' }],
  ['/api/auth', { vi: 'phiên đăng nhập', en: 'the sign-in session' }],
  ['/api/events', { vi: 'thông báo trực tiếp', en: 'live notifications' }],
  ['/api/family', { vi: 'người thân quản lý hồ sơ', en: 'family managers' }],
  ['/api/terminology', { vi: 'danh mục', en: 'terminology' }],
  ['/api/cds', { vi: 'hỗ trợ quyết định lâm sàng (AI/CDS)', en: 'decision support (AI/CDS)' }],
  ['/', { vi: 'chức năng khác', en: 'another function' }],
];

const VERBS: Record<string, L> = {
  GET: { vi: 'xem', en: 'view' },
  POST: { vi: 'thực hiện thao tác trên', en: 'act on' },
  PUT: { vi: 'sửa', en: 'change' },
  PATCH: { vi: 'sửa', en: 'change' },
  DELETE: { vi: 'xóa', en: 'delete' },
};

export function actionLabel(action: string, lang: 'vi' | 'en'): string {
  const own = ACTION_LABELS[action];
  if (own) return own[lang];
  const area = AREA_LABELS[action.split('.')[0]];
  return area ? area[lang] : lang === 'vi' ? 'Thao tác khác' : 'Other action';
}

export function resourceLabel(type: string | undefined, lang: 'vi' | 'en'): string | undefined {
  if (!type) return undefined;
  return RESOURCE_LABELS[type]?.[lang] ?? (lang === 'vi' ? 'Dữ liệu khác' : 'Other data');
}

export function outcomeLabel(outcome: string, lang: 'vi' | 'en'): string {
  return OUTCOME_LABELS[outcome]?.[lang] ?? outcome;
}

/** What a refused request tried: "xem Người bệnh — hồ sơ (FHIR)". */
export function deniedLabel(d: { method?: string; route?: string; resourceType?: string }, lang: 'vi' | 'en'): string {
  const verb = VERBS[d.method ?? '']?.[lang] ?? (lang === 'vi' ? 'truy cập' : 'access');
  const area = ROUTE_AREAS.find(([prefix]) => (d.route ?? '').startsWith(prefix))?.[1][lang];
  const what = resourceLabel(d.resourceType, lang);
  return [verb, what, area && (what ? `— ${area}` : area)].filter(Boolean).join(' ');
}
