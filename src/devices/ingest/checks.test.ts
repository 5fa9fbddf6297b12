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

  it('keeps text that is not JSON only up to where a credential could begin, however it is quoted or escaped, and cuts long text', () => {
    expect(keptPayload('{"msgId":"a2","token":"s3cret-\\"x","readings":[')).toBe('{"msgId":"a2","…[đã ẩn 32 ký tự]');
    for (const text of [
      '{"token" : "s3cret", oops',
      "{'token': 's3cret',",
      '{token: s3cret',
      'msg=1&device_token=s3cret',
      '{"\\u0074oken":"s3cret",',
      '{"Password":"s3cret"',
    ])
      expect(keptPayload(text), text).not.toMatch(/s3cret/);
    expect(keptPayload('{"msgId":"a3", broken')).toBe('{"msgId":"a3", broken');
    expect(keptPayload('x'.repeat(30_000))).toBe(`${'x'.repeat(20_000)}…[đã ẩn 10000 ký tự]`);
  });
});
