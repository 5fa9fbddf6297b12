/**
 * Labels of the meeting pages (list and calendar, planner, meeting page) beyond those in i18n.ts.
 * `en` is typed by `vi`, so a missing label fails to compile.
 */
import { lang } from './i18n.ts';

const vi = {
  calendarTitle: 'Lịch phiên hội chẩn',
  day: 'Ngày',
  week: 'Tuần',
  prev: '← Trước',
  next: 'Sau →',
  today: 'Hôm nay',
  facility: 'Điểm cầu',
  allFacilities: 'Mọi điểm cầu',
  noMeetings: 'Không có phiên hội chẩn nào trong khoảng này.',
  casesCount: (n: number) => `${n} ca`,
  chair: 'Chủ trì',
  chairYou: '(bạn)',
  search: (what: string) => `Tìm ${what.toLowerCase()} theo tên`,
  noMatch: 'Không tìm thấy.',
  remove: (name: string) => `Bỏ ${name}`,
  add: 'Thêm',
  selected: 'Đã chọn',
  typeToSearch: 'Gõ ít nhất 2 chữ để tìm',
  states: { invited: 'Đã mời', joined: 'Đang tham gia', left: 'Đã rời' } as Record<string, string>,
  statuses: { accepted: 'Đã nhận lời', 'needs-action': 'Đã mời', declined: 'Từ chối', tentative: 'Chưa chắc' } as Record<string, string>,
  patientHidden: 'Người bệnh (không thuộc phạm vi bạn xem)',
  question: 'Câu hỏi',
  since: 'từ',
  notStarted: 'Phiên chưa bắt đầu: kết luận chỉ được ký khi phiên đã diễn ra.',
  openCase: 'Mở ca',
  callSettings: 'Cài đặt hình và đường truyền',
  quality: { good: 'Đường truyền tốt', fair: 'Đường truyền trung bình', poor: 'Đường truyền kém', unknown: 'Chưa đo được đường truyền' } as Record<
    string,
    string
  >,
  connectedNow: (n: number) => `${n} người đang kết nối video`,
  notInRoom: 'Chưa vào phòng video',
  onCalendar: 'Xem trên lịch',
};

type Dict = typeof vi;

const en: Dict = {
  calendarTitle: 'Case-conference calendar',
  day: 'Day',
  week: 'Week',
  prev: '← Previous',
  next: 'Next →',
  today: 'Today',
  facility: 'Bridge point',
  allFacilities: 'All bridge points',
  noMeetings: 'No case conference in this period.',
  casesCount: (n: number) => `${n} case${n === 1 ? '' : 's'}`,
  chair: 'Chair',
  chairYou: '(you)',
  search: (what: string) => `Search ${what.toLowerCase()} by name`,
  noMatch: 'Nothing found.',
  remove: (name: string) => `Remove ${name}`,
  add: 'Add',
  selected: 'Selected',
  typeToSearch: 'Type at least 2 letters to search',
  states: { invited: 'Invited', joined: 'Joined', left: 'Left' },
  statuses: { accepted: 'Accepted', 'needs-action': 'Invited', declined: 'Declined', tentative: 'Tentative' },
  patientHidden: 'Patient (outside what you may see)',
  question: 'Question',
  since: 'since',
  notStarted: 'The meeting has not started: conclusions are signed once it has taken place.',
  openCase: 'Open case',
  callSettings: 'Picture and connection settings',
  quality: { good: 'Good connection', fair: 'Fair connection', poor: 'Poor connection', unknown: 'Connection not measured yet' },
  connectedNow: (n: number) => `${n} connected to the video`,
  notInRoom: 'Not in the video room',
  onCalendar: 'See on the calendar',
};

export function tm(): Dict {
  return lang.value === 'en' ? en : vi;
}
