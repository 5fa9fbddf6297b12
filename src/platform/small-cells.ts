/**
 * Small-cell protection for aggregates shown to people who must not learn about one person
 * (programme indicators, surveillance counts): counts under 5 are hidden, and a breakdown shown beside
 * its total gets secondary suppression — hiding the cells of 1–4 alone is undone by subtraction when
 * one cell is hidden, or when the hidden ones add up to fewer than 5, so the smallest shown cells are
 * hidden as well until at least two are hidden and they add up to 5 or more (or nothing is left).
 */

export const SMALL_CELL = 5;

/**
 * Which of `parts` (one breakdown) to hide. `zeroIsSmall`: a zero count is hidden too (a place-week
 * whose cases were all withdrawn); otherwise zero is shown (nothing to learn about anyone).
 */
export function hiddenParts(parts: number[], opts: { zeroIsSmall?: boolean } = {}): boolean[] {
  const hidden = parts.map((n) => (opts.zeroIsSmall || n > 0) && n < SMALL_CELL);
  const count = () => hidden.filter(Boolean).length;
  const sum = () => parts.reduce((a, n, i) => a + (hidden[i] ? n : 0), 0);
  while (count() > 0 && (count() === 1 || sum() < SMALL_CELL)) {
    let pick = -1;
    parts.forEach((n, i) => {
      if (!hidden[i] && n > 0 && (pick < 0 || n < parts[pick])) pick = i;
    });
    if (pick < 0) break;
    hidden[pick] = true;
  }
  return hidden;
}
