/** Vietnamese first, English second. Every label the UI shows comes from here. */
import { signal } from '@preact/signals';

export type Lang = 'vi' | 'en';

const vi = {
  appName: 'Cầu Y Tế',
  tagline: 'Nền tảng khám chữa bệnh từ xa',
  switchLang: 'English',
  navPatients: 'Người bệnh',
  searchTitle: 'Tìm người bệnh',
  searchPlaceholder: 'Họ tên, số CCCD hoặc thẻ BHYT (gõ không dấu cũng được)',
  searchHint: 'Ví dụ: nguyen van an',
  searching: 'Đang tìm…',
  results: (n: number) => `${n} người bệnh`,
  noResults: 'Không tìm thấy người bệnh nào.',
  name: 'Họ và tên',
  gender: 'Giới tính',
  birthDate: 'Ngày sinh',
  age: (n: number) => `${n} tuổi`,
  cccd: 'Số CCCD',
  bhyt: 'Thẻ BHYT',
  address: 'Địa chỉ',
  phone: 'Điện thoại',
  facility: 'Cơ sở quản lý',
  ethnicity: 'Dân tộc',
  male: 'Nam',
  female: 'Nữ',
  other: 'Khác',
  unknown: 'Không rõ',
  back: '← Danh sách',
  chartTitle: 'Hồ sơ bệnh án',
  demographics: 'Thông tin hành chính',
  conditions: 'Chẩn đoán (ICD-10)',
  noConditions: 'Chưa có chẩn đoán.',
  onset: 'Ngày',
  observations: 'Chỉ số và xét nghiệm',
  noObservations: 'Chưa có chỉ số nào.',
  date: 'Thời gian',
  test: 'Chỉ số',
  value: 'Kết quả',
  chart: 'Biểu đồ',
  loading: 'Đang tải…',
  errorPrefix: 'Có lỗi: ',
  retry: 'Thử lại',
  notFound: 'Không tìm thấy trang này.',
  systolic: 'Tâm thu',
  diastolic: 'Tâm trương',
};

type Dict = typeof vi;

const en: Dict = {
  appName: 'Cầu Y Tế',
  tagline: 'Telemedicine platform',
  switchLang: 'Tiếng Việt',
  navPatients: 'Patients',
  searchTitle: 'Find a patient',
  searchPlaceholder: 'Name, citizen ID or insurance card (accents optional)',
  searchHint: 'For example: nguyen van an',
  searching: 'Searching…',
  results: (n: number) => `${n} patient${n === 1 ? '' : 's'}`,
  noResults: 'No patient found.',
  name: 'Name',
  gender: 'Gender',
  birthDate: 'Date of birth',
  age: (n: number) => `${n} years`,
  cccd: 'Citizen ID (CCCD)',
  bhyt: 'Insurance card (BHYT)',
  address: 'Address',
  phone: 'Phone',
  facility: 'Managing facility',
  ethnicity: 'Ethnicity',
  male: 'Male',
  female: 'Female',
  other: 'Other',
  unknown: 'Unknown',
  back: '← Patient list',
  chartTitle: 'Patient chart',
  demographics: 'Demographics',
  conditions: 'Diagnoses (ICD-10)',
  noConditions: 'No diagnoses yet.',
  onset: 'Date',
  observations: 'Vital signs and results',
  noObservations: 'No results yet.',
  date: 'Time',
  test: 'Test',
  value: 'Result',
  chart: 'Chart',
  loading: 'Loading…',
  errorPrefix: 'Error: ',
  retry: 'Retry',
  notFound: 'Page not found.',
  systolic: 'Systolic',
  diastolic: 'Diastolic',
};

const stored = typeof localStorage !== 'undefined' ? localStorage.getItem('lang') : null;
export const lang = signal<Lang>(stored === 'en' ? 'en' : 'vi');

export function t(): Dict {
  return lang.value === 'en' ? en : vi;
}

export function setLang(l: Lang): void {
  lang.value = l;
  localStorage.setItem('lang', l);
  document.documentElement.lang = l;
}

const TZ = 'Asia/Ho_Chi_Minh';

/** dd/mm/yyyy in Vietnam's time zone (a bare date is shown as written). */
export function formatDate(value?: string): string {
  if (!value) return '';
  if (/^\d{4}-\d{2}-\d{2}$/.test(value)) return value.split('-').reverse().join('/');
  if (/^\d{4}(-\d{2})?$/.test(value)) return value.split('-').reverse().join('/');
  return new Intl.DateTimeFormat('vi-VN', { timeZone: TZ, day: '2-digit', month: '2-digit', year: 'numeric' }).format(new Date(value));
}

export function formatDateTime(value?: string): string {
  if (!value) return '';
  if (!value.includes('T')) return formatDate(value);
  return new Intl.DateTimeFormat('vi-VN', { timeZone: TZ, day: '2-digit', month: '2-digit', year: 'numeric', hour: '2-digit', minute: '2-digit' }).format(new Date(value));
}
