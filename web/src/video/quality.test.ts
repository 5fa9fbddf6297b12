/** The send-level governor: steps down on a sustained low estimate, back up only when clearly better. */
import { describe, expect, it } from 'vitest';
import { activeLayers, floorFor, LayerChooser, receiveQuality, SendLevelGovernor, type InboundSample } from './quality.ts';

describe('send level', () => {
  it('falls to low resolution, then audio only, after two low samples in a row; ignores a single dip', () => {
    const g = new SendLevelGovernor();
    expect([g.update(200_000), g.update(800_000), g.update(200_000)]).toEqual(['full', 'full', 'full']);
    expect(g.update(200_000)).toBe('low');
    expect([g.update(100_000), g.update(100_000)]).toEqual(['low', 'audio']);
    expect(g.update(undefined)).toBe('audio'); // no estimate: no change
  });

  it('while warming up, lowers the resolution but keeps video on, unless the person limited their own sending', () => {
    const g = new SendLevelGovernor();
    for (let i = 0; i < 6; i++) g.update(50_000, floorFor(false, null));
    expect(g.level).toBe('low');
    expect(floorFor(false, 100_000)).toBe('audio'); // "100 kbit/s" chosen in the pre-call check counts at once
    expect(floorFor(true, null)).toBe('audio');
    for (let i = 0; i < 2; i++) g.update(50_000, floorFor(true, null));
    expect(g.level).toBe('audio');
  });

  it('comes back a step at a time, only after five samples well above the threshold', () => {
    const g = new SendLevelGovernor();
    for (let i = 0; i < 2; i++) g.update(50_000);
    expect(g.level).toBe('audio');
    for (let i = 0; i < 10; i++) g.update(200_000); // above 150k but not 1.5× it
    expect(g.level).toBe('audio');
    const seen = Array.from({ length: 5 }, () => g.update(400_000));
    expect(seen).toEqual(['audio', 'audio', 'audio', 'audio', 'low']);
    g.reset();
    expect(g.level).toBe('full');
  });
});

describe('receive quality', () => {
  const s = (o: Partial<InboundSample>): InboundSample => ({
    framesDecoded: 0,
    audioPackets: 0,
    videoPackets: 0,
    videoLost: 0,
    audioLevel: 0,
    frameWidth: 0,
    frameHeight: 0,
    ...o,
  });
  it('is good with flowing frames and no loss, poor when frozen or lossy, fair in between', () => {
    const a = s({ framesDecoded: 100, videoPackets: 300, audioPackets: 100, rtt: 0.02 });
    expect(receiveQuality(undefined, a, true)).toBe('unknown');
    expect(receiveQuality(a, s({ framesDecoded: 150, videoPackets: 400, audioPackets: 150, rtt: 0.02 }), true)).toBe('good');
    expect(receiveQuality(a, s({ framesDecoded: 100, videoPackets: 400, audioPackets: 150, rtt: 0.02 }), true)).toBe('poor');
    expect(receiveQuality(a, s({ framesDecoded: 150, videoPackets: 400, videoLost: 4, audioPackets: 150, rtt: 0.02 }), true)).toBe('fair');
    expect(receiveQuality(a, s({ framesDecoded: 150, videoPackets: 400, videoLost: 20, audioPackets: 150, rtt: 0.02 }), true)).toBe('poor');
    expect(receiveQuality(a, s({ framesDecoded: 100, videoPackets: 300, audioPackets: 150, rtt: 0.4 }), false)).toBe('fair');
  });
});

describe('simulcast layers', () => {
  it('a viewer steps down after two poor samples, up only after ten good ones, and data saver takes the smallest', () => {
    const c = new LayerChooser();
    expect(c.update('poor', false)).toBe(2);
    expect(c.update('poor', false)).toBe(1);
    expect(c.update('fair', false)).toBe(1);
    expect(c.update('poor', false)).toBe(1);
    expect(c.update('poor', false)).toBe(0);
    expect(c.update('poor', false)).toBe(0);
    for (let i = 0; i < 9; i++) expect(c.update('good', false)).toBe(0);
    expect(c.update('good', false)).toBe(1);
    expect(c.update('good', true)).toBe(0);
    expect(c.update('good', false)).toBe(2);
  });

  it('a sender keeps the layers its limit pays for, drops the full one at the low level, and always keeps the smallest', () => {
    expect(activeLayers('full', null)).toEqual([true, true, true]);
    expect(activeLayers('low', null)).toEqual([false, true, true]);
    expect(activeLayers('full', 500_000)).toEqual([false, true, true]);
    expect(activeLayers('full', 1_400_000)).toEqual([true, true, true]);
    expect(activeLayers('full', 100_000)).toEqual([false, false, true]);
  });
});
