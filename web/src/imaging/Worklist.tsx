/**
 * The hub's reading worklist: studies asked of my facility and not yet reported, most urgent and
 * longest waiting first (urgency, waiting time, modality, requesting facility, patient).
 */
import { useEffect, useState } from 'preact/hooks';
import type { WorklistItem } from '../../../src/imaging/contract.ts';
import { apiGet } from '../api.ts';
import { ti } from '../i18n-imaging.ts';
import { LiveEventStream } from '../live.ts';

function waited(min: number, l: ReturnType<typeof ti>): string {
  return min < 120 ? `${min} ${l.minutes}` : `${Math.floor(min / 60)} ${l.hours}`;
}

export function Worklist() {
  const l = ti();
  const [items, setItems] = useState<WorklistItem[] | undefined>();
  const [error, setError] = useState<string | undefined>();
  const load = () => apiGet<WorklistItem[]>('/api/imaging/worklist').then(setItems, (e: Error) => setError(e.message));
  useEffect(() => {
    void load();
    const live = new LiveEventStream();
    live.on('imaging.new', () => void load());
    return () => live.close();
  }, []);
  return (
    <article>
      <h1>{l.worklist}</h1>
      {error && <p class="error">{error}</p>}
      {items && items.length === 0 && <p class="notice">{l.emptyWorklist}</p>}
      {items && items.length > 0 && (
        <div class="table-wrap">
          <table data-testid="worklist">
            <thead>
              <tr>
                <th>{l.urgency}</th>
                <th>{l.patient}</th>
                <th>{l.modality}</th>
                <th>{l.from}</th>
                <th>{l.waiting}</th>
              </tr>
            </thead>
            <tbody>
              {items.map((i) => (
                <tr key={i.studyId} class={i.urgency === 'stat' || i.urgency === 'asap' ? 'urgent' : ''}>
                  <td>{l.urgencies[i.urgency]}</td>
                  <td>
                    <a href={`/imaging/${i.studyId}`}>{i.patientName}</a>
                    {i.question && <div class="meta">{i.question}</div>}
                  </td>
                  <td>
                    {i.modality} · {i.instances} {l.images}
                  </td>
                  <td>{i.requestingFacility}</td>
                  <td>
                    {waited(i.waitingMinutes, l)}
                    {i.reportStatus === 'draft' ? ` · ${l.reportDraft}` : ''}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </article>
  );
}
