/** Opus tuning of received descriptions (FEC, DTX, the voice bit rate on every Opus payload, nothing else touched) and RED first in the codec order. */
import { describe, expect, it } from 'vitest';
import { OPUS_MAX_AVERAGE_BITRATE, redFirst, tuneOpus } from './sdp.ts';

const SDP = [
  'v=0',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111 63 9',
  'a=rtpmap:111 opus/48000/2',
  'a=fmtp:111 minptime=10;useinbandfec=0',
  'a=rtpmap:63 red/48000/2',
  'a=fmtp:63 111/111',
  'a=rtpmap:9 G722/8000',
  'm=video 9 UDP/TLS/RTP/SAVPF 96',
  'a=rtpmap:96 VP8/90000',
  '',
].join('\r\n');

describe('tuneOpus', () => {
  it('turns on FEC and DTX and sets the voice bit rate on Opus only, keeping its other parameters', () => {
    const out = tuneOpus(SDP);
    expect(out).toContain(`a=fmtp:111 minptime=10;useinbandfec=1;usedtx=1;maxaveragebitrate=${OPUS_MAX_AVERAGE_BITRATE}`);
    expect(out).toContain('a=fmtp:63 111/111');
    expect(out.split('\r\n').length).toBe(SDP.split('\r\n').length);
    expect(tuneOpus(out)).toBe(out); // applying twice changes nothing
  });

  it('adds an fmtp line for an Opus payload that had none, and keeps a bit rate the far end chose', () => {
    const bare = SDP.replace('a=fmtp:111 minptime=10;useinbandfec=0\r\n', '');
    expect(tuneOpus(bare)).toContain('a=rtpmap:111 opus/48000/2\r\na=fmtp:111 useinbandfec=1;usedtx=1;maxaveragebitrate=24000');
    expect(tuneOpus(SDP.replace('useinbandfec=0', 'maxaveragebitrate=16000'))).toContain('maxaveragebitrate=16000');
  });
});

describe('redFirst', () => {
  const codecs = [{ mimeType: 'audio/opus' }, { mimeType: 'audio/red' }, { mimeType: 'audio/G722' }, { mimeType: 'audio/telephone-event' }];

  it('puts audio/red first and keeps every other codec in its order', () => {
    expect(redFirst(codecs)!.map((c) => c.mimeType)).toEqual(['audio/red', 'audio/opus', 'audio/G722', 'audio/telephone-event']);
  });

  it('leaves the order alone (undefined) for a browser without RED or without capabilities', () => {
    expect(redFirst(codecs.filter((c) => c.mimeType !== 'audio/red'))).toBeUndefined();
    expect(redFirst(undefined)).toBeUndefined();
    expect(redFirst([{ mimeType: 'AUDIO/RED' }])!.length).toBe(1);
  });
});
