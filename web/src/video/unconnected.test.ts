/** When an unconnected Janus subscription is given up (unconnected.ts): each rule, and what is left to ICE. */
import { describe, expect, it } from 'vitest';
import { GIVE_UP_MS, NOT_CONNECTED_MS, giveUpReason, type Unconnected } from './unconnected.ts';

const at = (s: Partial<Unconnected>): Unconnected => ({ connection: 'connecting', ice: 'checking', sinceAnswer: 0, sinceTry: 0, down: 0, ...s });

describe('an unconnected subscription', () => {
  it('ICE up with no DTLS, or ICE never begun, is given up NOT_CONNECTED_MS after its answer, not before', () => {
    for (const ice of ['connected', 'completed', 'new'] as const) {
      expect(giveUpReason(at({ ice, sinceAnswer: NOT_CONNECTED_MS - 1, sinceTry: NOT_CONNECTED_MS - 1 }))).toBeUndefined();
      expect(giveUpReason(at({ ice, sinceAnswer: NOT_CONNECTED_MS }))).toBe(`not connected (connecting, ICE ${ice})`);
    }
  });

  it('a failure an ICE restart did not mend is given up NOT_CONNECTED_MS after the restart was asked for', () => {
    // What CI saw: 'failed', ICE 'disconnected', DTLS 'new', for good.
    const stuck = at({ connection: 'failed', ice: 'disconnected', sinceAnswer: 45_000 });
    expect(giveUpReason({ ...stuck, sinceTry: NOT_CONNECTED_MS - 1 })).toBeUndefined();
    expect(giveUpReason({ ...stuck, sinceTry: NOT_CONNECTED_MS })).toBe('not mended by an ICE restart (failed, ICE disconnected)');
    expect(giveUpReason(at({ ice: 'failed', sinceTry: NOT_CONNECTED_MS }))).toMatch(/ICE restart/);
  });

  it('ICE still checking is left to ICE until GIVE_UP_MS down', () => {
    const checking = at({ ice: 'checking', sinceAnswer: GIVE_UP_MS, sinceTry: GIVE_UP_MS });
    expect(giveUpReason({ ...checking, down: GIVE_UP_MS - 1 })).toBeUndefined();
    expect(giveUpReason({ ...checking, down: GIVE_UP_MS })).toBe(`not connected for ${GIVE_UP_MS / 1000} s (connecting, ICE checking)`);
  });

  it('a connected or closed connection is never given up here', () => {
    for (const connection of ['connected', 'closed'] as const) {
      expect(giveUpReason(at({ connection, ice: 'disconnected', sinceAnswer: 1e9, sinceTry: 1e9, down: 1e9 }))).toBeUndefined();
    }
  });
});
