/**
 * Shared viewing in a live meeting: this page joins the meeting room's signalling channel (no
 * media) and either presents — sending its viewer state (image, window, zoom, pan, pointer) as it
 * changes — or follows the presenter, applying each state to its own viewer. Every site renders
 * from the image store through its own access; only ids and numbers cross the channel.
 */
import type { ViewerState } from '../../../src/video/protocol.ts';
import { Signalling } from '../video/signalling.ts';
import type { Viewer } from './viewer.ts';

export interface SharedView {
  present(on: boolean): void;
  /** The pointer (0–1 of the viewport) while presenting, or null when it leaves the image. */
  pointer(p: [number, number] | null): void;
  close(): void;
}

export function shareViewer(
  roomId: string,
  studyId: string,
  viewer: Viewer,
  onFollow: (pointer: [number, number] | null) => void,
  onLink: (state: string) => void,
): SharedView {
  let presenting = false;
  let applying = false;
  let pointer: [number, number] | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const signalling = new Signalling(
    roomId,
    undefined,
    (msg) => {
      if (msg.type !== 'viewer' || presenting || msg.study !== studyId) return;
      applying = true;
      void viewer.apply(msg.state).finally(() => (applying = false));
      onFollow(msg.state.pointer ?? null);
    },
    (s) => onLink(s),
  );
  signalling.open();
  const sendNow = () => {
    timer = undefined;
    const s = viewer.state();
    const state: ViewerState = { index: s.index, wc: s.wc, ww: Math.max(1, s.ww), zoom: s.zoom, pan: s.pan, pointer };
    signalling.send({ type: 'viewer', study: studyId, state });
  };
  // At most one message per 50 ms while dragging: the follower sees each change within a frame or two.
  const schedule = () => {
    if (presenting && !applying && !timer) timer = setTimeout(sendNow, 50);
  };
  viewer.onChange(schedule);
  return {
    present(on) {
      presenting = on;
      if (on) schedule();
    },
    pointer(p) {
      pointer = p;
      schedule();
    },
    close() {
      clearTimeout(timer);
      signalling.close();
    },
  };
}
