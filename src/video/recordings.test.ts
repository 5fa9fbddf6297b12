/** Pairing Janus's per-stream dumps into one recording per person and segment. */
import { describe, expect, it } from 'vitest';
import { groupDumps } from './recordings.ts';

describe('groupDumps', () => {
  it('pairs each person’s audio and video started together; a later segment is a new recording; other files are ignored', () => {
    const files = [
      'videoroom-42-user-7-1764100000000100-audio-0.mjr',
      'videoroom-42-user-7-1764100000000900-video-1.mjr',
      'videoroom-42-user-9-1764100000000300-video-1.mjr',
      'videoroom-42-user-9-1764100000000200-audio-0.mjr',
      // After a pause (someone new had to agree), person 7 again.
      'videoroom-42-user-7-1764100030000000-audio-0.mjr',
      'videoroom-42-user-7-1764100030000500-video-1.mjr',
      // Person 11 published audio only.
      'videoroom-42-user-11-1764100000000400-audio-0.mjr',
      'participants.json',
      'videoroom-42-user-7-1764100000000100.webm',
    ];
    const groups = groupDumps(files, '/r');
    expect(groups.map((g) => [g.key, g.feed, g.audio, g.video])).toEqual([
      ['videoroom-42-user-7-1764100000000100', 7, '/r/videoroom-42-user-7-1764100000000100-audio-0.mjr', '/r/videoroom-42-user-7-1764100000000900-video-1.mjr'],
      ['videoroom-42-user-9-1764100000000200', 9, '/r/videoroom-42-user-9-1764100000000200-audio-0.mjr', '/r/videoroom-42-user-9-1764100000000300-video-1.mjr'],
      ['videoroom-42-user-11-1764100000000400', 11, '/r/videoroom-42-user-11-1764100000000400-audio-0.mjr', undefined],
      ['videoroom-42-user-7-1764100030000000', 7, '/r/videoroom-42-user-7-1764100030000000-audio-0.mjr', '/r/videoroom-42-user-7-1764100030000500-video-1.mjr'],
    ]);
  });
});
