/**
 * A room's recordings (made only when everyone agreed): one playable file per person, shown at
 * the end of a call and on /call/:id/recordings. While the server is still making the files
 * playable it says so and looks again.
 */
import { useEffect, useState } from 'preact/hooks';
import { apiGet } from '../api.ts';
import { t } from '../i18n.ts';
import type { RecordingList } from '../../../src/video/contract.ts';

export function Recordings({ roomId, standalone = false }: { roomId: string; standalone?: boolean }) {
  const d = t().video;
  const [list, setList] = useState<RecordingList>();
  const [error, setError] = useState<string>();
  useEffect(() => {
    let stop = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const load = () =>
      apiGet<RecordingList>(`/api/video/rooms/${encodeURIComponent(roomId)}/recordings`).then(
        (r) => {
          if (stop) return;
          setList(r);
          if (r.processing) timer = setTimeout(load, 2000);
        },
        (e: Error) => !stop && setError(e.message),
      );
    void load();
    return () => {
      stop = true;
      clearTimeout(timer);
    };
  }, [roomId]);
  // At the end of a call, people without the right (an invitation link) simply see nothing here.
  if (error)
    return standalone ? (
      <p class="error" role="alert">
        {error}
      </p>
    ) : null;
  if (!list || (!list.items.length && !list.processing && !standalone)) return null;
  return (
    <section class="recordings" aria-label={d.recordings}>
      <h2>{d.recordings}</h2>
      {list.processing && (
        <p class="notice" role="status">
          {d.recordingsProcessing}
        </p>
      )}
      {!list.items.length && !list.processing && <p class="notice">{d.recordingsNone}</p>}
      <ul>
        {list.items.map((r) => (
          <li key={r.key} data-recording={r.key}>
            <p>
              <strong>{r.name}</strong> · {new Date(r.start).toLocaleString(d.locale)} · {formatDuration(r.seconds)} · {(r.size / 1_048_576).toFixed(1)} MB ·{' '}
              <a href={r.url} download={`${r.key}.webm`}>
                {d.download}
              </a>
            </p>
            {r.contentType.startsWith('video/') ? <video controls preload="metadata" src={r.url} /> : <audio controls preload="metadata" src={r.url} />}
          </li>
        ))}
      </ul>
    </section>
  );
}

function formatDuration(s: number): string {
  const m = Math.floor(s / 60);
  return `${m}:${String(s % 60).padStart(2, '0')}`;
}
