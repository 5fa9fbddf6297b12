/**
 * One complete remote visit as claim facts (made-up person, demo facility codes): the fixture the
 * XML tests and the signing benchmark share.
 */
import type { ClaimFacts } from './facts.ts';

export const FACTS: ClaimFacts = {
  visitKey: '6f1c0c3e-8d1e-4b7a-9a51-0d2a2b9c4e11',
  recordNo: '0b6a3c9e-2f4d-4e1a-8c77-5d9e1f2a3b44',
  facility: { code: '10123', name: 'Trạm Y tế xã Bát Xát', departmentCode: 'K01', headInsuranceNo: '1012345678' },
  patient: {
    id: 'a1b2c3',
    name: 'Nguyễn Văn An',
    cccd: '015085123456',
    birthDate: '1985-03-07',
    gender: 'male',
    nationality: '000',
    ethnicity: '01',
    occupation: '00005',
    address: 'Thôn Nậm Pung, Xã Bát Xát, Tỉnh Lào Cai',
    provinceCode: '15',
    communeCode: '02680',
    phone: '0912345678',
    weightKg: 62.5,
  },
  card: { number: 'HN4150123456789' },
  subjectCode: '1.1',
  start: '2026-11-25T01:15:00.000Z',
  end: '2026-11-25T01:35:00.000Z',
  reason: 'Đau đầu, huyết áp cao mấy hôm nay',
  diagnosis: { code: 'I10', display: 'Tăng huyết áp vô căn (nguyên phát)' },
  conclusion: 'I10 Tăng huyết áp vô căn (nguyên phát)',
  advice: 'Ăn nhạt, đo huyết áp mỗi sáng',
  followUp: '2026-12-25',
  practitioner: { licence: 'CCHN-1007', name: 'Giàng A Sử' },
  service: { code: '02.1896', name: 'Khám từ xa bệnh mạn tính', price: 39_000, inList: true, insured: true },
  medicines: [
    {
      name: 'Amlodipin 5 mg',
      activeCode: '40.495',
      registration: 'VD-12345-10',
      unit: 'Viên',
      strength: '5 mg',
      routeCode: '1.01',
      dose: '1 viên x 1 lần x 30 ngày',
      quantity: 30,
      price: 350,
      orderedAt: '2026-11-25T01:30:00.000Z',
    },
    { name: 'Thuốc mua ngoài (không cấp phát)', unit: 'Viên', dose: '1 viên/ngày', quantity: 10, orderedAt: '2026-11-25T01:30:00.000Z' },
  ],
};
