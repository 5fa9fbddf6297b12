/**
 * Labels of the early-warning page (/surveillance) of the provincial disease-control officer.
 * Vietnamese first; `en` is typed by `vi`, so a missing label fails to compile.
 */
import { lang } from './i18n.ts';

const vi = {
  title: 'Cảnh báo sớm dịch bệnh truyền nhiễm',
  province: 'Tỉnh',
  listVersion: 'Danh mục bệnh',
  listUnverified: 'Danh mục bệnh đang dùng là bản dựng lại, chưa đối chiếu văn bản chính thức (QĐ 1965/QĐ-BYT). Quản trị hệ thống cần nạp danh mục chính thức.',
  groupAAlerts: 'Cảnh báo bệnh nhóm A (báo cáo ngay từ ca đầu tiên)',
  noGroupA: 'Không có ca bệnh nhóm A trong kỳ.',
  signals: 'Tín hiệu phát hiện',
  noSignals: 'Không có tín hiệu nào trong kỳ.',
  status: 'Trạng thái',
  all: 'Tất cả',
  statuses: { open: 'Chờ xử lý', confirmed: 'Đã xác nhận', dismissed: 'Đã bác bỏ' } as Record<string, string>,
  week: 'Tuần',
  disease: 'Bệnh',
  group: (g: string) => `Nhóm ${g}`,
  place: 'Địa bàn',
  algorithm: 'Thuật toán',
  algorithms: { 'ears-c1': 'EARS C1', 'ears-c2': 'EARS C2', 'ears-c3': 'EARS C3', cusum: 'CUSUM', 'group-a': 'Một ca nhóm A' } as Record<string, string>,
  observed: 'Số ca',
  expected: 'Kỳ vọng',
  statistic: 'Chỉ số / ngưỡng',
  actions: 'Xử lý',
  showSeries: 'Xem biểu đồ',
  confirm: 'Xác nhận',
  dismiss: 'Bác bỏ',
  note: 'Ghi chú (bắt buộc)',
  notePlaceholder: 'Ví dụ: đã xác minh tại trạm y tế xã, đã phun hóa chất…',
  save: 'Lưu quyết định',
  cancel: 'Hủy',
  decidedBy: (who: string, when: string) => `${who}, ${when}`,
  seriesTitle: (disease: string, place: string) => `${disease} — ${place}: số ca theo tuần`,
  cases: 'ca',
  signalWeek: 'Tuần có tín hiệu',
  per100k: (x: string) => `${x}/100.000 dân`,
  population: (n: string, y: number, src: string) => `Dân số ${n} (${y}, nguồn: ${src})`,
  noPopulation: 'Chưa có số dân (không tính được tỷ lệ mắc).',
  wholeProvince: 'Toàn tỉnh',
  refresh: 'Làm mới',
  saved: 'Đã lưu quyết định.',
  methods:
    'EARS C1/C2: độ lệch so với 7 tuần nền (C2 bỏ 2 tuần gần nhất), ngưỡng 3; C3: tổng 3 tuần của C2, ngưỡng 2; CUSUM: k = 0,5, h = 4 trên 10 tuần nền. Cần ít nhất 2 ca trong tuần (trừ CUSUM).',
};
type Dict = typeof vi;

const en: Dict = {
  title: 'Early warning of infectious-disease outbreaks',
  province: 'Province',
  listVersion: 'Disease list',
  listUnverified:
    'The disease list in force is a reconstruction not checked against the official text (QĐ 1965/QĐ-BYT). A system administrator should load the official list.',
  groupAAlerts: 'Group-A alerts (reported from the first case)',
  noGroupA: 'No Group-A case in the period.',
  signals: 'Detected signals',
  noSignals: 'No signal in the period.',
  status: 'Status',
  all: 'All',
  statuses: { open: 'Open', confirmed: 'Confirmed', dismissed: 'Dismissed' },
  week: 'Week',
  disease: 'Disease',
  group: (g: string) => `Group ${g}`,
  place: 'Place',
  algorithm: 'Algorithm',
  algorithms: { 'ears-c1': 'EARS C1', 'ears-c2': 'EARS C2', 'ears-c3': 'EARS C3', cusum: 'CUSUM', 'group-a': 'Single Group-A case' },
  observed: 'Cases',
  expected: 'Expected',
  statistic: 'Statistic / threshold',
  actions: 'Decision',
  showSeries: 'Show chart',
  confirm: 'Confirm',
  dismiss: 'Dismiss',
  note: 'Note (required)',
  notePlaceholder: 'e.g. verified at the commune health station, vector control done…',
  save: 'Save decision',
  cancel: 'Cancel',
  decidedBy: (who: string, when: string) => `${who}, ${when}`,
  seriesTitle: (disease: string, place: string) => `${disease} — ${place}: cases per week`,
  cases: 'cases',
  signalWeek: 'Week with a signal',
  per100k: (x: string) => `${x} per 100,000`,
  population: (n: string, y: number, src: string) => `Population ${n} (${y}, source: ${src})`,
  noPopulation: 'No population figure (no incidence rate).',
  wholeProvince: 'Whole province',
  refresh: 'Refresh',
  saved: 'Decision saved.',
  methods:
    'EARS C1/C2: deviation from a 7-week baseline (C2 skips the 2 latest weeks), threshold 3; C3: 3-week sum of C2, threshold 2; CUSUM: k = 0.5, h = 4 on a 10-week baseline. At least 2 cases in the week (except CUSUM).',
};

export function ts(): Dict {
  return lang.value === 'en' ? en : vi;
}

/** A number the Vietnamese way (decimal comma) or the English way. */
export function dec(n: number, digits = 1): string {
  return new Intl.NumberFormat(lang.value === 'en' ? 'en-GB' : 'vi-VN', { maximumFractionDigits: digits }).format(n);
}
