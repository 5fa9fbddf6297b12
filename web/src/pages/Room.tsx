/**
 * The video room page: pre-call check (camera, microphone, bandwidth), the lobby, the call itself
 * (grid or active-speaker layout, controls, participants, chat saved to the record, host
 * controls, recording consent) and clear states for waiting, reconnecting and audio-only.
 * Works without an account for a citizen holding an invitation link.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { apiGet } from '../api.ts';
import { t } from '../i18n.ts';
import { Recordings } from '../components/Recordings.tsx';
import { Call, type Member } from '../video/call.ts';
import type { PublicRoom } from '../../../src/video/contract.ts';

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

const CAPS: [string, number | null][] = [
  ['', null],
  ['1000', 1_000_000],
  ['500', 500_000],
  ['250', 250_000],
  ['100', 100_000],
];

function PreCall({ info, onJoin }: { info: RoomInfo; onJoin: (s: MediaStream, cap: number | null, dataSaver: boolean) => void }) {
  const d = t().video;
  const preview = useRef<HTMLVideoElement>(null);
  const [stream, setStream] = useState<MediaStream>();
  const [failed, setFailed] = useState(false);
  const [level, setLevel] = useState(0);
  const [kbps, setKbps] = useState<number>();
  const [cap, setCap] = useState<number | null>(null);
  const [hd, setHd] = useState(false);
  const [saver, setSaver] = useState(false);
  const joined = useRef(false);
  useEffect(() => {
    let stop = false;
    let raf = 0;
    let acquired: MediaStream | undefined;
    (async () => {
      let s: MediaStream;
      try {
        // 360p by default (weak links); 720p when presenting detail (imaging, skin, wounds).
        s = await navigator.mediaDevices.getUserMedia({
          audio: true,
          video: hd
            ? { width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 30 } }
            : { width: { ideal: 640 }, height: { ideal: 360 }, frameRate: { ideal: 24 } },
        });
      } catch {
        setFailed(true);
        s = await navigator.mediaDevices.getUserMedia({ audio: true }).catch(() => new MediaStream());
      }
      if (stop) return s.getTracks().forEach((x) => x.stop());
      acquired = s;
      setStream(s);
      if (preview.current) preview.current.srcObject = s;
      if (s.getAudioTracks().length) {
        // Microphone meter: the loudness the others will hear.
        const ctx = new AudioContext();
        const analyser = ctx.createAnalyser();
        ctx.createMediaStreamSource(s).connect(analyser);
        const buf = new Uint8Array(analyser.fftSize);
        const tick = () => {
          analyser.getByteTimeDomainData(buf);
          let peak = 0;
          for (const v of buf) peak = Math.max(peak, Math.abs(v - 128));
          setLevel(peak / 128);
          if (!stop) raf = requestAnimationFrame(tick);
        };
        tick();
      }
    })();
    // Bandwidth: time a 512 KB download from our own server.
    const t0 = performance.now();
    fetch('/api/video/probe', { cache: 'no-store' })
      .then((r) => r.arrayBuffer())
      .then((b) => setKbps(Math.round((b.byteLength * 8) / ((performance.now() - t0) / 1000) / 1000)))
      .catch(() => setKbps(0));
    return () => {
      stop = true;
      cancelAnimationFrame(raf);
      // Changing the resolution or leaving the page releases the camera; joining hands it to the call.
      if (!joined.current) acquired?.getTracks().forEach((x) => x.stop());
    };
  }, [hd]);
  return (
    <section class="precall">
      <h1>{info.title}</h1>
      <p class="muted">
        {d.call} · {info.mode === 'sfu' ? d.sfu : d.mesh}
      </p>
      <div class="card">
        <h2>{d.precheck}</h2>
        <video ref={preview} autoplay playsInline muted class="preview" />
        {failed && (
          <p class="error" role="alert">
            {d.noCamera}
          </p>
        )}
        <dl class="checks">
          <dt>{d.camera}</dt>
          <dd>{stream?.getVideoTracks()[0]?.label || (stream ? '—' : d.measuring)}</dd>
          <dt>{d.microphone}</dt>
          <dd>
            <meter min={0} max={1} value={level} aria-label={d.microphone} /> {stream?.getAudioTracks()[0]?.label ?? ''}
          </dd>
          <dt>{d.bandwidth}</dt>
          <dd>{kbps === undefined ? d.measuring : `${kbps.toLocaleString('vi-VN')} kbit/s`}</dd>
        </dl>
        <label>
          {d.sendCap}
          <select
            value={cap === null ? '' : String(cap / 1000)}
            onChange={(e) => setCap(CAPS.find(([k]) => k === (e.target as HTMLSelectElement).value)?.[1] ?? null)}
          >
            {CAPS.map(([k]) => (
              <option value={k}>{k ? `${k} kbit/s` : d.noCap}</option>
            ))}
          </select>
        </label>
        <label>
          {d.resolution}
          <select value={hd ? '720' : '360'} onChange={(e) => setHd((e.target as HTMLSelectElement).value === '720')}>
            <option value="360">{d.res360}</option>
            <option value="720">{d.res720}</option>
          </select>
        </label>
        {info.mode === 'sfu' && (
          <label class="check">
            <input type="checkbox" checked={saver} onChange={(e) => setSaver((e.target as HTMLInputElement).checked)} /> {d.dataSaver}
          </label>
        )}
        <button
          class="primary"
          disabled={!stream}
          onClick={() => {
            if (!stream) return;
            joined.current = true;
            onJoin(stream, cap, saver);
          }}
        >
          {d.join}
        </button>
      </div>
    </section>
  );
}

function Tile({
  member,
  stream,
  local,
  quality,
  speaking,
}: {
  member?: Member;
  stream?: MediaStream;
  local?: MediaStream;
  quality?: string;
  speaking: boolean;
}) {
  const d = t().video;
  const ref = useRef<HTMLVideoElement>(null);
  const s = local ?? stream;
  useEffect(() => {
    if (ref.current && ref.current.srcObject !== (s ?? null)) ref.current.srcObject = s ?? null;
  }, [s]);
  const audioOnly = member?.media.audioOnly || member?.media.video === false;
  return (
    <figure class={`tile${speaking ? ' speaking' : ''}`} data-member={member?.id ?? 'me'} data-name={member?.name}>
      <video ref={ref} autoplay playsInline muted={!!local} class={audioOnly && !member?.media.screen ? 'hidden-video' : ''} />
      {audioOnly && !member?.media.screen && (
        <div class="avatar" aria-hidden="true">
          {(member?.name ?? '?').slice(0, 1)}
        </div>
      )}
      <figcaption>
        <strong>{local ? d.you : member?.name}</strong>
        {member?.hand && <span title={d.hand}> ✋</span>}
        {member && !member.media.audio && (
          <span class="badge" title={d.mic}>
            🔇
          </span>
        )}
        {member?.media.audioOnly && <span class="badge">{d.audioOnly.split(' — ')[0]}</span>}
        {member?.media.screen && <span class="badge">{d.sharing}</span>}
        {member && !local && (
          <span class={`badge q-${quality ?? 'unknown'}`} data-quality={quality ?? 'unknown'}>
            {d.quality[quality ?? 'unknown']}
          </span>
        )}
        <br />
        <small>{member ? [member.site, member.host ? d.host : ''].filter(Boolean).join(' · ') : ''}</small>
      </figcaption>
    </figure>
  );
}

function InCall({ call }: { call: Call }) {
  const d = t().video;
  const [layout, setLayout] = useState<'grid' | 'speaker'>('grid');
  const [panel, setPanel] = useState<'none' | 'chat' | 'people'>('none');
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
      <nav class="controls" aria-label={d.call}>
        <button aria-pressed={call.audioOn.value} onClick={() => call.setAudio(!call.audioOn.value)}>
          {d.mic}: {call.audioOn.value ? d.on : d.off}
        </button>
        <button aria-pressed={call.videoOn.value} onClick={() => call.setVideo(!call.videoOn.value)}>
          {d.cam}: {call.videoOn.value ? d.on : d.off}
        </button>
        {typeof navigator.mediaDevices?.getDisplayMedia === 'function' && (
          <button
            aria-pressed={call.screenOn.value}
            onClick={() => void call.shareScreen(!call.screenOn.value).catch((e: Error) => (call.notice.value = e.message))}
          >
            {call.screenOn.value ? d.stopScreen : d.screen}
          </button>
        )}
        <button aria-pressed={call.hand.value} onClick={() => call.raiseHand(!call.hand.value)}>
          {call.hand.value ? d.lowerHand : d.hand}
        </button>
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
      {me?.host && lobby.length > 0 && panel !== 'people' && (
        <p class="notice" role="status">
          {d.lobby}: {lobby.map((m) => m.name).join(', ')} <button onClick={() => setPanel('people')}>{d.people}</button>
        </p>
      )}
      {panel === 'people' && (
        <aside class="card panel" aria-label={d.people}>
          {me?.host && lobby.length > 0 && (
            <>
              <h2>{d.lobby}</h2>
              <ul class="people">
                {lobby.map((m) => (
                  <li key={m.id}>
                    <span>
                      {m.name} <small>{m.site}</small>
                    </span>
                    <span class="row">
                      <button class="primary" onClick={() => call.host('admit', m.id)}>
                        {d.admit}
                      </button>
                      <button onClick={() => call.host('deny', m.id)}>{d.deny}</button>
                    </span>
                  </li>
                ))}
              </ul>
            </>
          )}
          <h2>{d.people}</h2>
          <ul class="people">
            {members
              .filter((m) => m.state === 'in')
              .map((m) => (
                <li key={m.id}>
                  <span>
                    {m.id === me?.id ? `${m.name} (${d.you})` : m.name} {m.hand && '✋'}
                    <br />
                    <small>{[m.site, m.role, m.host ? d.host : ''].filter(Boolean).join(' · ')}</small>
                  </span>
                  {me?.host && m.id !== me.id && (
                    <span class="row">
                      <button onClick={() => call.host('mute', m.id)}>{d.mute}</button>
                      <button class="danger" onClick={() => call.host('remove', m.id)}>
                        {d.remove}
                      </button>
                    </span>
                  )}
                </li>
              ))}
          </ul>
        </aside>
      )}
      {panel === 'chat' && (
        <aside class="card panel" aria-label={d.chat}>
          <ol class="chat">
            {call.chat.value.map((c) => (
              <li key={c.at + c.from}>
                <strong>{c.name}</strong> <small>{new Date(c.at).toLocaleTimeString('vi-VN', { hour: '2-digit', minute: '2-digit' })}</small>
                <br />
                {c.text}
              </li>
            ))}
          </ol>
          <form
            class="row"
            onSubmit={(e) => {
              e.preventDefault();
              if (text.trim()) call.sendChat(text.trim());
              setText('');
            }}
          >
            <input
              aria-label={d.chat}
              placeholder={d.chatPlaceholder}
              value={text}
              maxLength={2000}
              onInput={(e) => setText((e.target as HTMLInputElement).value)}
            />
            <button class="primary">{d.send}</button>
          </form>
        </aside>
      )}
    </section>
  );
}
