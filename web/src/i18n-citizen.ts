/**
 * Labels of the citizen's pages added for issue 12 (plain-language booking reasons, the danger
 * advice for a home reading, empty sections, access log and consent). Vietnamese first; `en` is
 * typed by `vi`, so a missing label fails to compile. Kept out of i18n.ts so parallel work does
 * not collide.
 */
import { lang } from './i18n.ts';

/** A reason a citizen can name in plain words, and the ICD-10 code of the Circular 30 list it stands for. */
export interface PlainReason {
  key: string;
  code: string;
  display: string;
}

/** The code and its Vietnamese ICD-10 name are what the server checks and records; the citizen sees the words. */
export const PLAIN_REASONS: PlainReason[] = [
  { key: 'bp', code: 'I10', display: 'Tăng huyết áp vô căn (nguyên phát)' },
  { key: 'diabetes', code: 'E11.9', display: 'Bệnh đái tháo đường không phụ thuộc insulin không có biến chứng' },
  { key: 'lipids', code: 'E78', display: 'Rối loạn chuyển hóa lipoprotein và tình trạng tăng lipid máu khác' },
  { key: 'thyroid', code: 'E03', display: 'Suy giáp khác' },
  { key: 'weight', code: 'E66', display: 'Béo phì' },
  { key: 'cold', code: 'J00', display: 'Viêm mũi họng cấp [cảm thường]' },
  { key: 'asthma', code: 'J45', display: 'Hen [suyễn]' },
  { key: 'copd', code: 'J44', display: 'Bệnh phổi tắc nghẽn mạn tính khác' },
  { key: 'neck', code: 'M25.5', display: 'Đau khớp' },
  { key: 'back', code: 'M54.5', display: 'Đau vùng thắt lưng' },
  { key: 'knee', code: 'M17', display: 'Thoái hóa khớp gối' },
  { key: 'mood', code: 'F41.2', display: 'Rối loạn hỗn hợp lo âu và trầm cảm' },
  { key: 'skin', code: 'L50', display: 'Mày đay' },
  { key: 'mouth', code: 'K12.0', display: 'Loét áp-tơ miệng tái phát' },
];

const vi = {
  reasonTitle: 'Bạn cần khám về vấn đề gì?',
  reasonHint: 'Chọn điều gần đúng nhất; bác sĩ sẽ hỏi thêm khi khám.',
  reasons: {
    bp: 'Huyết áp cao — theo dõi, tái khám, lấy thuốc',
    diabetes: 'Tiểu đường — theo dõi, tái khám, lấy thuốc',
    lipids: 'Mỡ máu cao',
    thyroid: 'Bệnh tuyến giáp (suy giáp)',
    weight: 'Thừa cân, béo phì',
    cold: 'Sổ mũi, đau họng, cảm thông thường',
    asthma: 'Hen suyễn — theo dõi, lấy thuốc',
    copd: 'Bệnh phổi mạn tính (COPD) — theo dõi',
    neck: 'Đau vai gáy, đau khớp',
    back: 'Đau lưng',
    knee: 'Đau, thoái hóa khớp gối',
    mood: 'Lo âu, buồn chán, mất ngủ kéo dài',
    skin: 'Nổi mẩn ngứa, mày đay',
    mouth: 'Nhiệt miệng, loét miệng',
  } as Record<string, string>,
  reasonOther: 'Vấn đề khác — tìm theo tên bệnh',
  reasonOtherSearch: 'Tên bệnh hoặc triệu chứng (gõ không dấu cũng được)',
  reasonMissing: 'Hãy chọn vấn đề bạn cần khám.',
  dangerTitle: 'Huyết áp của bạn đang ở mức nguy hiểm',
  dangerBp: (bp: string) => `Bạn ghi huyết áp ${bp} mmHg (từ 180/110 trở lên là nguy hiểm).`,
  dangerDo: [
    'Ngồi nghỉ yên tĩnh 5 phút rồi đo lại.',
    'Nếu vẫn từ 180/110 trở lên, hoặc có đau đầu dữ dội, đau ngực, khó thở, yếu hay tê nửa người, nói khó, nhìn mờ: GỌI NGAY 115 hoặc đến trạm y tế gần nhất.',
    'Đừng chờ đến giờ khám từ xa.',
  ],
  call115: 'Gọi 115 (cấp cứu)',
  redFlagTitle: 'Dấu hiệu cấp cứu: đừng chờ khám từ xa',
  redFlagDo: 'Gọi ngay 115 hoặc đến cơ sở y tế gần nhất.',
  tooEarly: (when: string, left: string) =>
    `Buổi khám bắt đầu lúc ${when} (còn ${left}). Bạn có thể vào phòng chờ từ bây giờ, nhưng bác sĩ chỉ vào khi đến giờ khám.`,
  duration: (h: number, m: number) => (h ? `${h} giờ ${m} phút` : `${m} phút`),
  // access log
  othersTitle: 'Người khác đã xem hoặc thay đổi hồ sơ',
  othersEmpty: 'Chưa có ai khác truy cập hồ sơ này.',
  older: 'Xem các lần cũ hơn',
  selfTitle: 'Việc bạn tự làm',
  selfEmpty: 'Chưa có.',
  why: 'Vì sao',
  whyCare: 'Đang khám chữa bệnh cho bạn (quan hệ chăm sóc hoặc sự đồng ý của bạn)',
  whyGlass: 'Truy cập khẩn cấp — lý do:',
  refused: 'bị từ chối',
  system: 'Hệ thống Cầu Y Tế',
  recordTypes: {
    Patient: 'thông tin cá nhân',
    Observation: 'chỉ số sức khỏe, xét nghiệm',
    Condition: 'chẩn đoán',
    AllergyIntolerance: 'dị ứng',
    MedicationRequest: 'đơn thuốc',
    MedicationStatement: 'thuốc đang dùng',
    Encounter: 'lần khám',
    Appointment: 'lịch khám',
    DocumentReference: 'tài liệu',
    Composition: 'phiếu khám, kết luận',
    ServiceRequest: 'yêu cầu hội chẩn',
    Task: 'hồ sơ hội chẩn',
    Immunization: 'tiêm chủng',
    Consent: 'đồng ý chia sẻ dữ liệu',
    RelatedPerson: 'người thân quản lý hồ sơ',
    Flag: 'cảnh báo sức khỏe',
    CarePlan: 'kế hoạch theo dõi',
    DetectedIssue: 'cảnh báo kê đơn',
    ChargeItem: 'chi phí khám',
    QuestionnaireResponse: 'câu trả lời trước khi khám',
    Binary: 'tệp đính kèm',
    Device: 'thiết bị đo',
  } as Record<string, string>,
  // who holds access (consent page)
  holdersTitle: 'Ai đang có quyền xem hồ sơ này',
  holdersHint: 'Danh sách tính theo đúng quy tắc truy cập của hệ thống tại thời điểm này.',
  holdersEmpty: 'Hiện chưa có cơ sở hay người nào khác có quyền xem hồ sơ này.',
  basis: {
    care: 'Đang chăm sóc sức khỏe cho bạn',
    consent: 'Bạn đã đồng ý chia sẻ',
    family: 'Người thân quản lý hồ sơ',
    'break-glass': 'Truy cập khẩn cấp',
  } as Record<string, string>,
  careKinds: {
    registered: 'đăng ký quản lý sức khỏe',
    gp: 'bác sĩ gia đình',
    encounter: 'đã khám cho bạn',
    appointment: 'có lịch khám với bạn',
    consultation: 'hội chẩn về bạn',
    'care-team': 'nhóm chăm sóc',
    episode: 'đợt điều trị, theo dõi',
  } as Record<string, string>,
  managerIs: { parent: 'Cha/mẹ', child: 'Con', spouse: 'Vợ/chồng', grandchild: 'Cháu', guardian: 'Người giám hộ' } as Record<string, string>,
  everyFacility: 'Mọi cơ sở y tế',
  blockedNote: 'Bạn đã chặn cơ sở này: họ không xem được hồ sơ (trừ truy cập khẩn cấp).',
  glassUntil: (when: string) => `Hết hạn lúc ${when}; cán bộ bảo vệ dữ liệu sẽ xem xét.`,
  glassReason: 'Lý do:',
  answerChoices: {} as Record<string, string>,
};

type Dict = typeof vi;

const en: Dict = {
  reasonTitle: 'What do you need to be seen for?',
  reasonHint: 'Pick the closest; the doctor will ask more during the visit.',
  reasons: {
    bp: 'High blood pressure — follow-up, refill',
    diabetes: 'Diabetes — follow-up, refill',
    lipids: 'High cholesterol',
    thyroid: 'Thyroid disease (underactive)',
    weight: 'Overweight, obesity',
    cold: 'Runny nose, sore throat, common cold',
    asthma: 'Asthma — follow-up, refill',
    copd: 'Chronic lung disease (COPD) — follow-up',
    neck: 'Neck, shoulder or joint pain',
    back: 'Back pain',
    knee: 'Knee pain, knee arthritis',
    mood: 'Anxiety, low mood, poor sleep for a long time',
    skin: 'Itchy rash, hives',
    mouth: 'Mouth ulcers',
  },
  reasonOther: 'Something else — search by illness name',
  reasonOtherSearch: 'Illness or symptom name',
  reasonMissing: 'Choose what you need to be seen for.',
  dangerTitle: 'Your blood pressure is dangerously high',
  dangerBp: (bp: string) => `You entered ${bp} mmHg (180/110 or above is dangerous).`,
  dangerDo: [
    'Sit quietly for 5 minutes and measure again.',
    'If it is still 180/110 or above, or you have a severe headache, chest pain, shortness of breath, weakness or numbness on one side, trouble speaking or blurred vision: CALL 115 NOW or go to the nearest health station.',
    'Do not wait for the remote visit.',
  ],
  call115: 'Call 115 (emergency)',
  redFlagTitle: 'Emergency signs: do not wait for a remote visit',
  redFlagDo: 'Call 115 now or go to the nearest health facility.',
  tooEarly: (when: string, left: string) =>
    `The visit starts at ${when} (in ${left}). You may enter the waiting room now, but the doctor joins only at the visit time.`,
  duration: (h: number, m: number) => (h ? `${h} h ${m} min` : `${m} min`),
  othersTitle: 'Others who viewed or changed the record',
  othersEmpty: 'Nobody else has accessed this record yet.',
  older: 'Show older entries',
  selfTitle: 'What you did yourself',
  selfEmpty: 'Nothing yet.',
  why: 'Why',
  whyCare: 'Caring for you (care relationship or your consent)',
  whyGlass: 'Emergency access — reason:',
  refused: 'refused',
  system: 'Cầu Y Tế system',
  recordTypes: {
    Patient: 'personal details',
    Observation: 'measurements and tests',
    Condition: 'diagnoses',
    AllergyIntolerance: 'allergies',
    MedicationRequest: 'prescriptions',
    MedicationStatement: 'current medicines',
    Encounter: 'visits',
    Appointment: 'bookings',
    DocumentReference: 'documents',
    Composition: 'visit notes, conclusions',
    ServiceRequest: 'consultation requests',
    Task: 'consultation case',
    Immunization: 'vaccinations',
    Consent: 'data-sharing consent',
    RelatedPerson: 'family managing the record',
    Flag: 'health alerts',
    CarePlan: 'monitoring plan',
    DetectedIssue: 'prescribing warnings',
    ChargeItem: 'visit charges',
    QuestionnaireResponse: 'pre-visit answers',
    Binary: 'attachments',
    Device: 'measuring devices',
  },
  holdersTitle: 'Who can read this record now',
  holdersHint: 'Computed with the system’s own access rules, as of now.',
  holdersEmpty: 'No other facility or person can read this record right now.',
  basis: { care: 'Caring for you', consent: 'You agreed to share', family: 'Family member managing the record', 'break-glass': 'Emergency access' },
  careKinds: {
    registered: 'registered for your health care',
    gp: 'family doctor',
    encounter: 'has seen you',
    appointment: 'has a booking with you',
    consultation: 'consultation about you',
    'care-team': 'care team',
    episode: 'treatment or monitoring episode',
  },
  managerIs: { parent: 'Parent', child: 'Child', spouse: 'Spouse', grandchild: 'Grandchild', guardian: 'Guardian' },
  everyFacility: 'Every health facility',
  blockedNote: 'You blocked this facility: it cannot read the record (except emergency access).',
  glassUntil: (when: string) => `Ends at ${when}; the data-protection officer will review it.`,
  glassReason: 'Reason:',
  /** Answer choices of the pre-visit questions by code, in English (the Questionnaire carries Vietnamese). */
  answerChoices: { lt1d: 'Less than a day', '1-7d': '1–7 days', '1-4w': '1–4 weeks', gt1m: 'More than a month' } as Record<string, string>,
};

export function tz(): Dict {
  return lang.value === 'en' ? en : vi;
}

/** A home blood pressure "sys/dia" at or above 180/110 (either number). */
export function dangerousBp(text: unknown): boolean {
  const m = /^\s*(\d{2,3})\s*\/\s*(\d{2,3})\s*$/.exec(String(text ?? ''));
  return !!m && (Number(m[1]) >= 180 || Number(m[2]) >= 110);
}
