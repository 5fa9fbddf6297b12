/**
 * Before joining a call: camera preview, microphone meter, a bandwidth probe, and the person's
 * choices (a cap on what this device sends, 360p or 720p, data saver in SFU rooms).
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { t } from '../../i18n.ts';
import { formatNumber } from '../../i18n-admin.ts';
import { tm } from '../../i18n-meetings.ts';
import '../../admin.css';

/** A bit rate as people read it: "65 Mbit/s", "1,5 Mbit/s", "800 kbit/s" (Vietnamese decimal comma). */
export function bitRate(kbps: number): string {
  if (kbps >= 1000) return `${formatNumber(kbps / 1000, kbps >= 10_000 ? 0 : 1)} Mbit/s`;
  return `${formatNumber(kbps)} kbit/s`;
}
import type { PublicRoom as RoomInfo } from '../../../../src/video/contract.ts';

const CAPS: [string, number | null][] = [
  ['', null],
  ['1000', 1_000_000],
  ['500', 500_000],
  ['250', 250_000],
  ['100', 100_000],
];

export function PreCall({ info, onJoin }: { info: RoomInfo; onJoin: (s: MediaStream, cap: number | null, dataSaver: boolean) => void }) {
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
          <dd>{kbps === undefined ? d.measuring : kbps === 0 ? '—' : bitRate(kbps)}</dd>
        </dl>
        <fieldset class="precall-controls">
          <legend>{tm().callSettings}</legend>
          <label>
            {d.sendCap}
            <select
              value={cap === null ? '' : String(cap / 1000)}
              onChange={(e) => setCap(CAPS.find(([k]) => k === (e.target as HTMLSelectElement).value)?.[1] ?? null)}
            >
              {CAPS.map(([k]) => (
                <option value={k}>{k ? bitRate(Number(k)) : d.noCap}</option>
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
        </fieldset>
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
