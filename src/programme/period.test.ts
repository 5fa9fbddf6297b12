/** The indicators' default period and reference day are Vietnamese: on 31 March at 18:00 UTC it is already 1 April in Hà Nội. */
import { describe, expect, it } from 'vitest';
import { resolve } from './indicators.ts';

describe('the default period', () => {
  it('ends with the Vietnamese month of today, and asOf is the Vietnamese day', () => {
    const r = resolve({}, { kind: 'national' }, new Date('2026-03-31T18:00:00Z'));
    expect(r).toMatchObject({ asOf: '2026-04-01', to: '2026-04', from: '2025-05' });
    expect(resolve({}, { kind: 'national' }, new Date('2026-03-31T16:59:59Z'))).toMatchObject({ asOf: '2026-03-31', to: '2026-03', from: '2025-04' });
  });

  it('keeps what the request names', () => {
    expect(resolve({ from: '2026-01', to: '2026-02', asOf: '2026-02-10' }, { kind: 'national' }, new Date('2026-03-31T18:00:00Z'))).toMatchObject({
      from: '2026-01',
      to: '2026-02',
      asOf: '2026-02-10',
    });
  });
});
