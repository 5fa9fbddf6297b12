/**
 * The video room page: pre-call check (camera, microphone, bandwidth), the lobby, the call itself
 * (grid or active-speaker layout, controls, participants, chat saved to the record, host
 * controls, recording consent) and clear states for waiting, reconnecting and audio-only.
 * Works without an account for a citizen holding an invitation link. This file chooses the stage
 * (pre-call check or call); the parts are in room/.
 */
import { useEffect, useState } from 'preact/hooks';
import { apiGet } from '../api.ts';
import { t } from '../i18n.ts';
import { Call } from '../video/call.ts';
import type { PublicRoom } from '../../../src/video/contract.ts';
import { InCall } from './room/InCall.tsx';
import { PreCall } from './room/PreCall.tsx';

declare global {
  interface Window {
    __call?: Call;
  }
}

type RoomInfo = PublicRoom;

export function RoomPage({ id, invite }: { id: string; invite?: string }) {
  const d = t().video;
  const [info, setInfo] = useState<RoomInfo>();
  const [error, setError] = useState<string>();
  const [call, setCall] = useState<Call>();
  useEffect(() => {
    apiGet<RoomInfo>(`/api/video/rooms/${encodeURIComponent(id)}${invite ? `?invite=${encodeURIComponent(invite)}` : ''}`).then(setInfo, (e: Error) =>
      setError(e.message),
    );
  }, [id, invite]);
  useEffect(() => () => call?.leave(), [call]);
  if (error)
    return (
      <p class="error" role="alert">
        {error}
      </p>
    );
  if (!info) return <p class="notice">{d.connecting}</p>;
  if (!call)
    return (
      <PreCall
        info={info}
        onJoin={(stream, cap, saver) => {
          const c = new Call(id, invite, stream);
          window.__call = c;
          c.setSendCap(cap);
          c.setDataSaver(saver);
          c.start();
          setCall(c);
        }}
      />
    );
  return <InCall call={call} />;
}
