/** The pre-call bandwidth readout is human: Mbit/s above 1 000 kbit/s, the Vietnamese decimal comma. */
import { describe, expect, it, vi } from 'vitest';

vi.mock('../../i18n.ts', () => ({ lang: { value: 'vi' }, t: () => ({}) }));

describe('bitRate', () => {
  it('reads like a person would say it', async () => {
    const { bitRate } = await import('./PreCall.tsx');
    expect(bitRate(65_432)).toBe('65 Mbit/s');
    expect(bitRate(1_500)).toBe('1,5 Mbit/s');
    expect(bitRate(800)).toBe('800 kbit/s');
  });
});
