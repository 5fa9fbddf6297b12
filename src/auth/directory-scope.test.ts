/** workplaceOf (directory-scope.ts): when a facility speaks for a practitioner. The writes it guards are tested through the API in security.test.ts and admin.test.ts. */
import { describe, expect, it } from 'vitest';
import { workplaceOf } from './directory-scope.ts';

describe('where a practitioner works, seen from one facility', () => {
  it('only there, there and elsewhere, or not there (a role with no facility counts as elsewhere)', () => {
    expect(workplaceOf(['a', 'a'], 'a')).toBe('only-here');
    expect(workplaceOf(['a', 'b'], 'a')).toBe('also-elsewhere');
    expect(workplaceOf(['a', ''], 'a')).toBe('also-elsewhere');
    expect(workplaceOf(['b'], 'a')).toBe('not-here');
    expect(workplaceOf([], 'a')).toBe('not-here');
  });
});
