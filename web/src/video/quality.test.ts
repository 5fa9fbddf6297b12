/** Receive quality, simulcast layer choice and active layers (the send adaptation is tested in adaptation.test.ts). */
import { describe, expect, it } from 'vitest';
import { activeLayers, LayerChooser, receiveQuality, type InboundSample } from './quality.ts';

describe('receive quality', () => {
  const s = (o: Partial<InboundSample>): InboundSample => ({
    framesDecoded: 0,
    audioPackets: 0,
    videoPackets: 0,
    videoLost: 0,
    audioLevel: 0,
    audioConcealed: 0,
    audioSamples: 0,
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
