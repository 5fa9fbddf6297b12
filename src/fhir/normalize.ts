/**
 * Text folding for search: lower case, Unicode NFC, diacritics removed, đ→d, spaces collapsed.
 * "Nguyễn Văn Đức" and "nguyen van duc" fold to the same key.
 */
const COMBINING_MARKS = /[\u0300-\u036f]/g;

export function foldText(s: string): string {
  return s.normalize('NFD').replace(COMBINING_MARKS, '').replace(/[đĐ]/g, 'd').toLowerCase().replace(/\s+/g, ' ').trim();
}

/** Stored text is kept in NFC, as the architecture asks. */
export function nfc(s: string): string {
  return s.normalize('NFC');
}
