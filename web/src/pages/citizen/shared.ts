/** Small helpers the citizen's pages share: the page's query string and de-duplicating a list. */
import { path } from '../../router.ts';

/** The current page's query string (e.g. `?patient=` for a family member's page). */
export const query = () => new URLSearchParams(path.value.split('?')[1] ?? '');

export function dedupe(xs: string[]): string[] {
  return [...new Set(xs)];
}
