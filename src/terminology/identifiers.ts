/**
 * Vietnamese identifiers as FHIR identifier systems, with the rules each must satisfy.
 *
 * CCCD (căn cước công dân, 12 digits) = birth-registration province (3) + century/sex (1)
 * + last two digits of the birth year (2) + 6 serial digits. No check digit exists.
 * BHYT (thẻ bảo hiểm y tế, 15 characters) = beneficiary group (2 letters) + benefit level (1–5)
 * + province (2 digits) + 10-digit social-insurance number.
 * Rules as summarised in docs/regulations.md (CCCD structure: Circular 59/2021/TT-BCA, Art. 7).
 */
export const CCCD_SYSTEM = 'https://fhir.cauyte.vn/sid/cccd';
export const BHYT_SYSTEM = 'https://fhir.cauyte.vn/sid/bhyt';

/**
 * Province codes of the 63 provinces before the 2025 merger (GSO codes). Cards issued before
 * and after the merger carry these; the 34 merged provinces kept one of them.
 */
export const PROVINCE_CODES: Readonly<Record<string, string>> = {
  '01': 'Hà Nội',
  '02': 'Hà Giang',
  '04': 'Cao Bằng',
  '06': 'Bắc Kạn',
  '08': 'Tuyên Quang',
  '10': 'Lào Cai',
  '11': 'Điện Biên',
  '12': 'Lai Châu',
  '14': 'Sơn La',
  '15': 'Yên Bái',
  '17': 'Hòa Bình',
  '19': 'Thái Nguyên',
  '20': 'Lạng Sơn',
  '22': 'Quảng Ninh',
  '24': 'Bắc Giang',
  '25': 'Phú Thọ',
  '26': 'Vĩnh Phúc',
  '27': 'Bắc Ninh',
  '30': 'Hải Dương',
  '31': 'Hải Phòng',
  '33': 'Hưng Yên',
  '34': 'Thái Bình',
  '35': 'Hà Nam',
  '36': 'Nam Định',
  '37': 'Ninh Bình',
  '38': 'Thanh Hóa',
  '40': 'Nghệ An',
  '42': 'Hà Tĩnh',
  '44': 'Quảng Bình',
  '45': 'Quảng Trị',
  '46': 'Thừa Thiên Huế',
  '48': 'Đà Nẵng',
  '49': 'Quảng Nam',
  '51': 'Quảng Ngãi',
  '52': 'Bình Định',
  '54': 'Phú Yên',
  '56': 'Khánh Hòa',
  '58': 'Ninh Thuận',
  '60': 'Bình Thuận',
  '62': 'Kon Tum',
  '64': 'Gia Lai',
  '66': 'Đắk Lắk',
  '67': 'Đắk Nông',
  '68': 'Lâm Đồng',
  '70': 'Bình Phước',
  '72': 'Tây Ninh',
  '74': 'Bình Dương',
  '75': 'Đồng Nai',
  '77': 'Bà Rịa - Vũng Tàu',
  '79': 'Hồ Chí Minh',
  '80': 'Long An',
  '82': 'Tiền Giang',
  '83': 'Bến Tre',
  '84': 'Trà Vinh',
  '86': 'Vĩnh Long',
  '87': 'Đồng Tháp',
  '89': 'An Giang',
  '91': 'Kiên Giang',
  '92': 'Cần Thơ',
  '93': 'Hậu Giang',
  '94': 'Sóc Trăng',
  '95': 'Bạc Liêu',
  '96': 'Cà Mau',
};

/** BHYT cards are also issued by the social-insurance agencies of the army (97) and police (98). */
const BHYT_EXTRA_PROVINCES = new Set(['97', '98']);

export interface PersonFacts {
  birthDate?: string;
  gender?: string;
}

/** Returns what is wrong with a CCCD number (Vietnamese + English), or undefined if valid. */
export function checkCccd(value: string, person: PersonFacts = {}): string | undefined {
  if (!/^\d{12}$/.test(value)) return `Số CCCD phải gồm đúng 12 chữ số (CCCD must be exactly 12 digits), got "${value}"`;
  const province = value.slice(0, 3);
  if (province[0] !== '0' || !PROVINCE_CODES[province.slice(1)]) {
    return `Mã tỉnh nơi đăng ký khai sinh "${province}" không tồn tại (CCCD digits 1–3 are not a province code)`;
  }
  const centurySex = Number(value[3]);
  // 0/1: 1900s, 2/3: 2000s, 4/5: 2100s, 6/7: 2200s, 8/9: 1800s; even = male, odd = female.
  const century = [1900, 2000, 2100, 2200, 1800][Math.floor(centurySex / 2)];
  const year = century + Number(value.slice(4, 6));
  const sex = centurySex % 2 === 0 ? 'male' : 'female';
  if (person.birthDate) {
    const birthYear = Number(person.birthDate.slice(0, 4));
    if (birthYear !== year) {
      return `Số CCCD cho năm sinh ${year} nhưng ngày sinh là ${person.birthDate} (CCCD digits 4–6 encode birth year ${year}, birthDate says ${birthYear})`;
    }
  }
  if ((person.gender === 'male' || person.gender === 'female') && person.gender !== sex) {
    return `Số CCCD cho giới tính ${sex === 'male' ? 'nam' : 'nữ'} nhưng hồ sơ ghi ${person.gender === 'male' ? 'nam' : 'nữ'} (CCCD digit 4 encodes ${sex}, gender is ${person.gender})`;
  }
  return undefined;
}

/** Returns what is wrong with a BHYT card number, or undefined if valid. */
export function checkBhyt(value: string): string | undefined {
  if (!/^[A-Z]{2}[1-5]\d{12}$/.test(value)) {
    return `Mã thẻ BHYT phải có dạng 2 chữ cái + mức hưởng 1–5 + 2 số mã tỉnh + 10 số BHXH, ví dụ DN4790123456789 (BHYT card number must match ^[A-Z]{2}[1-5]\\d{12}$), got "${value}"`;
  }
  const province = value.slice(3, 5);
  if (!PROVINCE_CODES[province] && !BHYT_EXTRA_PROVINCES.has(province)) {
    return `Mã tỉnh "${province}" trên thẻ BHYT không tồn tại (BHYT characters 4–5 are not a province code)`;
  }
  return undefined;
}
