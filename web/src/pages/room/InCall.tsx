/**
 * The call itself: its state (connecting, lobby, reconnecting, audio only, ended), the recording
 * consent question, the stage (grid or active speaker, with the self view), the control bar and
 * the people and chat panels.
 */
import { useState } from 'preact/hooks';
import { t } from '../../i18n.ts';
import { tw } from '../../i18n-weaklink.ts';
import { Recordings } from '../../components/Recordings.tsx';
import type { Call } from '../../video/call.ts';
import { ChatPanel } from './ChatPanel.tsx';
import { Controls, type Layout, type Panel } from './Controls.tsx';
import { PeoplePanel } from './PeoplePanel.tsx';
import { Tile } from './Tile.tsx';

export function InCall({ call }: { call: Call }) {
  const d = t().video;
  const [layout, setLayout] = useState<Layout>('grid');
  const [panel, setPanel] = useState<Panel>('none');
  const [text, setText] = useState('');
  const state = call.state.value;
  const me = call.me.value;
  const room = call.room.value;
  const members = call.members.value;
  const others = members.filter((m) => m.id !== me?.id && m.state === 'in');
  const lobby = members.filter((m) => m.state === 'lobby' && m.id !== me?.id);
  const meMember = members.find((m) => m.id === me?.id);
  const rec = call.recording.value;
  const speaker =
    call.speaker.value && others.some((o) => o.id === call.speaker.value) ? call.speaker.value : (others.find((o) => o.media.screen)?.id ?? others[0]?.id);

  if (state === 'ended' || state === 'refused' || state === 'left') {
    return (
      <section>
        <p class={state === 'refused' ? 'error' : 'notice'} role="alert" data-state={state}>
          {state === 'left' ? d.left : (call.message.value ?? d.ended)}
        </p>
        {state !== 'refused' && room && <Recordings roomId={room.id} />}
      </section>
    );
  }
  return (
    <section class="call" data-state={state} data-level={call.sendLevel.value}>
      <header class="call-head">
        <h1>{room?.title ?? d.call}</h1>
        <span class="badge">{room?.mode === 'sfu' ? d.sfu : d.mesh}</span>
        {rec.state === 'on' && <span class="badge rec">● {d.recording}</span>}
      </header>
      {state === 'connecting' && <p class="notice">{d.connecting}</p>}
      {state === 'lobby' && (
        <p class="notice" role="status" data-testid="lobby">
          {d.waitingHost}
        </p>
      )}
      {state === 'reconnecting' && (
        <p class="warning" role="status" data-testid="reconnecting">
          {d.reconnecting}
        </p>
      )}
      {call.sendLevel.value === 'audio' && (
        <p class="warning" role="status" data-testid="audio-only">
          {d.audioOnly} <button onClick={() => call.retryVideo()}>{d.retryVideo}</button>
        </p>
      )}
      {call.probing.value && (
        <p class="notice" role="status" data-testid="probing">
          {tw().probing}
        </p>
      )}
      {call.sendLevel.value === 'low' && (
        <p class="notice" role="status">
          {d.lowQuality}
        </p>
      )}
      {call.notice.value && (
        <p class="notice" role="status" onClick={() => (call.notice.value = undefined)}>
          {call.notice.value}
        </p>
      )}
      {rec.state === 'asking' && meMember?.state === 'in' && rec.consents[me!.id] === undefined && (
        <div class="card dialog" role="dialog" aria-label={d.record}>
          <p>{d.recordAsk(rec.note ?? '')}</p>
          <div class="row">
            <button class="primary" onClick={() => call.consentToRecording(true)}>
              {d.agree}
            </button>
            <button onClick={() => call.consentToRecording(false)}>{d.disagree}</button>
          </div>
        </div>
      )}
      {rec.note && rec.state !== 'asking' && <p class="muted">{rec.note}</p>}
      {(state === 'in' || state === 'reconnecting') && (
        <div class={`stage ${layout}`}>
          {(layout === 'grid' ? others : others.filter((o) => o.id === speaker)).map((m) => (
            <Tile key={m.id} member={m} stream={call.streams.value[m.id]} quality={call.quality.value[m.id]} speaking={call.speaker.value === m.id} />
          ))}
          {layout === 'speaker' && (
            <div class="filmstrip">
              {others
                .filter((o) => o.id !== speaker)
                .map((m) => (
                  <Tile key={m.id} member={m} stream={call.streams.value[m.id]} quality={call.quality.value[m.id]} speaking={false} />
                ))}
            </div>
          )}
          <div class="self">
            <Tile local={call.local} member={meMember} speaking={false} />
          </div>
        </div>
      )}
      <Controls call={call} others={others} lobby={lobby} layout={layout} setLayout={setLayout} panel={panel} setPanel={setPanel} />
      {me?.host && lobby.length > 0 && panel !== 'people' && (
        <p class="notice" role="status">
          {d.lobby}: {lobby.map((m) => m.name).join(', ')} <button onClick={() => setPanel('people')}>{d.people}</button>
        </p>
      )}
      {panel === 'people' && <PeoplePanel call={call} lobby={lobby} />}
      {panel === 'chat' && <ChatPanel call={call} text={text} setText={setText} />}
    </section>
  );
}
