/**
 * The insurance XML as sent: each table its own UTF-8 document (root/list/row elements of
 * spec.ts, every column in order), base64-encoded into the GIAMDINHHS envelope (one HOSO per
 * visit, one FILEHOSO per table present, never XML12); the check-in (XML0) is a document of its
 * own. Both end with the empty CHUKYDONVI element the facility's signature goes into (sign.ts).
 * Source: docs/national-formats.md §1.1 (CV 1245 and CV 3190 templates [S2, S3]).
 *
 * Rules: pure. Text is escaped, never wrapped in CDATA; NGAYLAP is yyyyMMdd (implementations'
 * reading, [U]); a table with no rows is left out.
 */
import { vnDate } from './facts.ts';
import type { ClaimRows } from './rows.ts';
import { TABLES, type TableSpec } from './spec.ts';
import type { Row } from './validate.ts';

const HEADER = '<?xml version="1.0" encoding="utf-8"?>\n';
const ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };
const escape = (s: string) => s.replace(/[&<>"']/g, (c) => ESC[c]).replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '');

function rowXml(spec: TableSpec, row: Row): string {
  let out = '';
  for (const c of spec.columns) {
    const v = row[c.name] ?? '';
    out += v === '' ? `<${c.name} />` : `<${c.name}>${escape(v)}</${c.name}>`;
  }
  return out;
}

/** The inner element(s) of a table, without the XML declaration. */
function tableBody(spec: TableSpec, rows: Row[], trailer = ''): string {
  if (!spec.list) return `<${spec.root}>${rowXml(spec, rows[0])}${trailer}</${spec.root}>`;
  const items = rows.map((r) => `<${spec.row}>${rowXml(spec, r)}</${spec.row}>`).join('');
  return `<${spec.root}><${spec.list}>${items}</${spec.list}>${trailer}</${spec.root}>`;
}

/** One table as its own document (what NOIDUNGFILE carries, base64). */
export function tableDocument(spec: TableSpec, rows: Row[]): string {
  return HEADER + tableBody(spec, rows);
}

/** The check-in document (XML0), with the empty signature element. */
export function checkInDocument(rows: Row[]): string {
  return HEADER + tableBody(TABLES.XML0, rows, '<CHUKYDONVI />');
}

const ENVELOPE_TABLES = ['XML1', 'XML2', 'XML3', 'XML13', 'XML14'] as const;

/** The GIAMDINHHS envelope for one or more visits of one facility, unsigned. */
export function envelope(facilityCode: string, visits: ClaimRows[], createdAt = new Date().toISOString()): string {
  const hoso = visits
    .map((v) => {
      const files = ENVELOPE_TABLES.filter((k) => v[k].length > 0)
        .map(
          (k) =>
            `<FILEHOSO><LOAIHOSO>${k}</LOAIHOSO><NOIDUNGFILE>${Buffer.from(tableDocument(TABLES[k], v[k]), 'utf8').toString('base64')}</NOIDUNGFILE></FILEHOSO>`,
        )
        .join('');
      return `<HOSO>${files}</HOSO>`;
    })
    .join('');
  return (
    HEADER +
    '<GIAMDINHHS xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema">' +
    `<THONGTINDONVI><MACSKCB>${escape(facilityCode)}</MACSKCB></THONGTINDONVI>` +
    `<THONGTINHOSO><NGAYLAP>${vnDate(createdAt)}</NGAYLAP><SOLUONGHOSO>${visits.length}</SOLUONGHOSO><DANHSACHHOSO>${hoso}</DANHSACHHOSO></THONGTINHOSO>` +
    '<CHUKYDONVI />' +
    '</GIAMDINHHS>'
  );
}
