/**
 * Which lazy pages are fetched ahead for a role (lazy.tsx): pages for everyone and pages listed
 * for that role, in declaration order; nothing role-bound for someone not signed in; a page for
 * nobody only when opened. Pure selection, no fetching.
 */
import { describe, expect, it } from 'vitest';
import { pagesFor } from './lazy.tsx';

const pages = [
  { for: ['commune_clinician', 'specialist'] as const },
  { for: 'all' as const },
  { for: ['facility_admin', 'system_admin'] as const },
  { for: [] as const },
  { for: ['citizen'] as const },
];

describe('pagesFor', () => {
  it('gives a clinician the clinical pages and the shared ones, not admin or citizen pages', () => {
    expect(pagesFor('commune_clinician', pages)).toEqual([0, 1]);
    expect(pagesFor('citizen', pages)).toEqual([1, 4]);
    expect(pagesFor('system_admin', pages)).toEqual([1, 2]);
  });

  it('gives an unknown or missing role only the shared pages, and never a page meant for nobody', () => {
    expect(pagesFor(undefined, pages)).toEqual([1]);
    expect(pagesFor('dpo', pages)).toEqual([1]);
    for (const role of ['commune_clinician', 'citizen', 'system_admin', undefined]) expect(pagesFor(role, pages)).not.toContain(3);
  });
});
