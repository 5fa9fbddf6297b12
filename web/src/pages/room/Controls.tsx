/** The call's control bar: microphone, camera, screen, hand, layout, data saver, chat and people panels, recording, leave and end. */
import { t } from '../../i18n.ts';
import type { Call, Member } from '../../video/call.ts';

export type Layout = 'grid' | 'speaker';
export type Panel = 'none' | 'chat' | 'people';

export function Controls({
  call,
  others,
  lobby,
  layout,
  setLayout,
  panel,
  setPanel,
}: {
  call: Call;
  others: Member[];
  lobby: Member[];
  layout: Layout;
  setLayout: (l: Layout) => void;
  panel: Panel;
  setPanel: (p: Panel) => void;
}) {
  const d = t().video;
  const me = call.me.value;
  const room = call.room.value;
  const rec = call.recording.value;
  const citizen = call.members.value.find((m) => m.id === me?.id)?.role === 'citizen';
  return (
    <nav class="controls" aria-label={d.call}>
      <button aria-pressed={call.audioOn.value} onClick={() => call.setAudio(!call.audioOn.value)}>
        {d.mic}: {call.audioOn.value ? d.on : d.off}
      </button>
      <button aria-pressed={call.videoOn.value} onClick={() => call.setVideo(!call.videoOn.value)}>
        {d.cam}: {call.videoOn.value ? d.on : d.off}
      </button>
      {/* Screen sharing and raising a hand are for staff in meetings and calls, not for a citizen at a visit. */}
      {!citizen && typeof navigator.mediaDevices?.getDisplayMedia === 'function' && (
        <button
          aria-pressed={call.screenOn.value}
          onClick={() => void call.shareScreen(!call.screenOn.value).catch((e: Error) => (call.notice.value = e.message))}
        >
          {call.screenOn.value ? d.stopScreen : d.screen}
        </button>
      )}
      {!citizen && (
        <button aria-pressed={call.hand.value} onClick={() => call.raiseHand(!call.hand.value)}>
          {call.hand.value ? d.lowerHand : d.hand}
        </button>
      )}
      <button onClick={() => setLayout(layout === 'grid' ? 'speaker' : 'grid')}>{layout === 'grid' ? d.speakerView : d.grid}</button>
      {room?.mode === 'sfu' && (
        <button aria-pressed={call.dataSaver.value} title={d.dataSaver} onClick={() => call.setDataSaver(!call.dataSaver.value)}>
          {d.dataSaverOn}: {call.dataSaver.value ? d.on : d.off}
        </button>
      )}
      <button aria-pressed={panel === 'chat'} onClick={() => setPanel(panel === 'chat' ? 'none' : 'chat')}>
        {d.chat}
      </button>
      <button aria-pressed={panel === 'people'} onClick={() => setPanel(panel === 'people' ? 'none' : 'people')}>
        {d.people} ({others.length + 1}){lobby.length > 0 && me?.host ? ` · ${d.lobby}: ${lobby.length}` : ''}
      </button>
      {me?.host &&
        room?.mode === 'sfu' &&
        (rec.state === 'off' ? (
          <button onClick={() => call.askToRecord()}>{d.record}</button>
        ) : (
          <button onClick={() => call.stopRecording()}>{d.stopRecord}</button>
        ))}
      <button class="danger" onClick={() => call.leave()}>
        {d.leave}
      </button>
      {me?.host && (
        <button class="danger" onClick={() => confirm(d.endCall + '?') && call.end()}>
          {d.endCall}
        </button>
      )}
    </nav>
  );
}
