/** What quarantine keeps of a message (checks.ts `keptPayload`): everything but its credentials. */
import { describe, expect, it } from 'vitest';
import { keptPayload } from './checks.ts';

describe('keptPayload', () => {
  it('rewrites JSON without any credential value, at any depth, and keeps the rest', () => {
    const kept = keptPayload(
      JSON.stringify({ msgId: 'a1', token: 's3cret-1', readings: [{ type: 'hr', value: 999, apiToken: 's3cret-2' }], auth: { password: 's3cret-3' } }),
    );
    expect(kept).not.toMatch(/s3cret/);
    expect(JSON.parse(kept)).toEqual({
      msgId: 'a1',
      token: '[đã ẩn]',
      readings: [{ type: 'hr', value: 999, apiToken: '[đã ẩn]' }],
      auth: { password: '[đã ẩn]' },
    });
  });

  it('blanks a token written in text that is not JSON, and cuts long text', () => {
    expect(keptPayload('{"msgId":"a2","token":"s3cret-\\"x","readings":[')).toBe('{"msgId":"a2","token":"[đã ẩn]","readings":[');
    expect(keptPayload('{"token" : "s3cret", oops')).not.toMatch(/s3cret/);
    expect(keptPayload('x'.repeat(30_000))).toHaveLength(20_000);
  });
});
