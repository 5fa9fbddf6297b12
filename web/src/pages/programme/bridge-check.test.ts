/**
 * The bridge-point check's verdicts (bridge-check.ts): TURN is needed when only relay candidates
 * were gathered; a direct (server-reflexive) candidate means no relay; nothing gathered with
 * servers configured fails the check; a successful check needs camera, microphone, a path out and
 * the READY bandwidth and round trip.
 */
import { describe, expect, it } from 'vitest';
import { checkOk, iceVerdict, READY, type CandidateType } from './bridge-check.ts';

const set = (...x: CandidateType[]) => new Set<CandidateType>(x);

describe('bridge-point check', () => {
  it('needs TURN only when the relay is the only way out', () => {
    expect(iceVerdict(set('host', 'srflx', 'relay'), true)).toEqual({ turn: false, reachable: true });
    expect(iceVerdict(set('host', 'prflx'), true)).toEqual({ turn: false, reachable: true });
    expect(iceVerdict(set('host', 'relay'), true)).toEqual({ turn: true, reachable: true });
    expect(iceVerdict(set('relay'), true)).toEqual({ turn: true, reachable: true });
    // STUN/TURN configured but nothing came back from them: no way out.
    expect(iceVerdict(set('host'), true)).toEqual({ turn: false, reachable: false });
    expect(iceVerdict(set(), true)).toEqual({ turn: false, reachable: false });
    // A LAN deployment without STUN/TURN: host candidates are the path.
    expect(iceVerdict(set('host'), false)).toEqual({ turn: false, reachable: true });
  });

  it('calls a check successful only with every measure at or above READY', () => {
    const good = { camera: true, microphone: true, downKbps: READY.downKbps, upKbps: READY.upKbps, rttMs: READY.rttMs, turn: true, reachable: true };
    expect(checkOk(good)).toBe(true);
    expect(checkOk({ ...good, camera: false })).toBe(false);
    expect(checkOk({ ...good, microphone: false })).toBe(false);
    expect(checkOk({ ...good, reachable: false })).toBe(false);
    expect(checkOk({ ...good, downKbps: READY.downKbps - 1 })).toBe(false);
    expect(checkOk({ ...good, upKbps: undefined })).toBe(false);
    expect(checkOk({ ...good, rttMs: READY.rttMs + 1 })).toBe(false);
    expect(checkOk({ ...good, rttMs: undefined })).toBe(false);
  });
});
