/**
 * RFC 5545 §3.1 line folding by octets: a content line longer than 75 octets is split, each
 * continuation starting with one space, never inside a UTF-8 sequence. The `ics` package folds
 * at 75 characters, which for Vietnamese (2–3 octets per letter) makes lines of up to ~200
 * octets that strict calendar clients reject or cut; its output is unfolded and folded again here.
 */
const LIMIT = 75;

/** Folds one unfolded content line (no CR/LF inside). */
export function foldLine(line: string): string {
  const out: string[] = [];
  let current = '';
  let octets = 0;
  let limit = LIMIT;
  for (const ch of line) {
    const n = Buffer.byteLength(ch, 'utf8');
    if (octets + n > limit) {
      out.push(current);
      current = '';
      octets = 0;
      limit = LIMIT - 1; // the leading space of a continuation line counts
    }
    current += ch;
    octets += n;
  }
  out.push(current);
  return out.join('\r\n ');
}

/** Unfolds a whole calendar (CRLF or LF, continuation by space or tab) and folds every line by octets; CRLF line ends. */
export function foldIcs(text: string): string {
  const lines = text
    .replace(/\r?\n[ \t]/g, '')
    .split(/\r?\n/)
    .filter((l, i, all) => l !== '' || i < all.length - 1);
  return `${lines.map(foldLine).join('\r\n')}\r\n`;
}
