/**
 * Rows in PostgreSQL's COPY text format (the default of `COPY … FROM STDIN`): one line per row,
 * columns separated by tabs, NULL as `\N`, and backslash, tab, newline and carriage return escaped
 * inside values. Used by the bulk write path (src/fhir/storage-copy.ts) on both databases.
 *
 * Rules: values are strings, numbers, booleans, null/undefined (NULL); anything else is a bug
 * and throws. The caller formats dates (ISO 8601) and JSON (JSON.stringify) itself.
 */
const SPECIAL = /[\\\t\n\r]/;
const SPECIAL_ALL = /[\\\t\n\r]/g;
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/** One value as a COPY text field. */
export function copyField(v: unknown): string {
  if (v === null || v === undefined) return '\\N';
  if (typeof v === 'string') return SPECIAL.test(v) ? v.replace(SPECIAL_ALL, (c) => ESCAPES[c]) : v;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new Error(`COPY field: ${v} is not a finite number`);
    return String(v);
  }
  if (typeof v === 'boolean') return v ? 't' : 'f';
  throw new Error(`COPY field: unsupported value of type ${typeof v}`);
}

/** One row (its fields in column order) as a COPY text line, newline included. */
export function copyLine(fields: readonly unknown[]): string {
  let line = copyField(fields[0]);
  for (let i = 1; i < fields.length; i++) line += '\t' + copyField(fields[i]);
  return line + '\n';
}
