/** One visit as the citizen sees it: its facts, entering the waiting room, rescheduling or cancelling, and its result. */
import { useEffect, useState } from 'preact/hooks';
import { apiGet, apiSend } from '../../api.ts';
import { formatDateTime, t } from '../../i18n.ts';
import { navigate } from '../../router.ts';
import type { CancelRequest, RescheduleRequest, RoomOpened, ServiceInfo, VisitView } from '../../../../src/visits/contract.ts';
import { SlotPicker } from './SlotPicker.tsx';
import { tz } from '../../i18n-citizen.ts';

/** Earlier than this before the visit, the page says when it starts and how long is left. */
const OPENS_BEFORE_MS = 15 * 60_000;
const early = (start: string) => Date.parse(start) - Date.now() > OPENS_BEFORE_MS;
function untilText(start: string): string {
  const minutes = Math.max(0, Math.round((Date.parse(start) - Date.now()) / 60_000));
  return tz().duration(Math.floor(minutes / 60), minutes % 60);
}
import { VisitResult } from './VisitResult.tsx';

export function CitizenVisit({ id }: { id: string }) {
  const d = t();
  const [v, setV] = useState<VisitView>();
  const [error, setError] = useState<string>();
  const [mode, setMode] = useState<'idle' | 'cancel' | 'move'>('idle');
  const [cancelReason, setCancelReason] = useState('');
  const load = () => apiGet<VisitView>(`/api/visits/${id}`).then(setV, (e) => setError((e as Error).message));
  useEffect(() => void load(), [id]);
  const act = async (fn: () => Promise<unknown>) => {
    setError(undefined);
    try {
      await fn();
      setMode('idle');
      await load();
    } catch (err) {
      setError((err as Error).message);
    }
  };
  if (!v)
    return error ? (
      <p class="error" role="alert">
        {error}
      </p>
    ) : (
      <p class="notice">{d.loading}</p>
    );
  return (
    <section class="citizen">
      <a class="back" href="/me/visits">
        ← {d.cz.myVisits}
      </a>
      <h1>
        {v.service}
        <small>
          <span class={`badge s-${v.status}`}>{d.cz.status[v.status] ?? v.status}</span>
        </small>
      </h1>
      <dl class="facts card">
        <dt>{d.cz.when}</dt>
        <dd>{formatDateTime(v.start)}</dd>
        <dt>{d.name}</dt>
        <dd>{v.patient.name}</dd>
        <dt>{d.cz.doctor}</dt>
        <dd>{v.practitioner.name}</dd>
        {v.bookingCode && (
          <>
            <dt>{d.cz.bookingCode}</dt>
            <dd>{v.bookingCode}</dd>
          </>
        )}
        {v.reason && (
          <>
            <dt>{d.cz.reason}</dt>
            <dd>{v.reason}</dd>
          </>
        )}
        {v.cancelReason && (
          <>
            <dt>{d.cz.cancelReason}</dt>
            <dd>{v.cancelReason}</dd>
          </>
        )}
      </dl>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {v.status === 'booked' && early(v.start) && (
        <p class="notice early" role="status">
          {tz().tooEarly(formatDateTime(v.start), untilText(v.start))}
        </p>
      )}
      {v.status === 'booked' && (
        <div class="actions">
          <button
            type="button"
            class="primary big"
            onClick={() =>
              act(async () => {
                const r = await apiSend<RoomOpened>('POST', `/api/visits/${id}/room`);
                navigate(r.url);
              })
            }
          >
            {d.cz.enterRoom}
          </button>
          <button type="button" onClick={() => setMode(mode === 'move' ? 'idle' : 'move')}>
            {d.cz.reschedule}
          </button>
          <button type="button" onClick={() => setMode(mode === 'cancel' ? 'idle' : 'cancel')}>
            {d.cz.cancel}
          </button>
        </div>
      )}
      {mode === 'cancel' && (
        <form
          class="card"
          onSubmit={(e) => {
            e.preventDefault();
            void act(() => apiSend('POST', `/api/visits/${id}/cancel`, { reason: cancelReason } satisfies CancelRequest));
          }}
        >
          <label>
            {d.cz.cancelReason}
            <input required maxLength={500} value={cancelReason} onInput={(e) => setCancelReason((e.target as HTMLInputElement).value)} />
          </label>
          <button type="submit" class="danger">
            {d.cz.confirmCancel}
          </button>
        </form>
      )}
      {mode === 'move' && (
        <Reschedule visit={v} onPick={(slotId) => act(() => apiSend('POST', `/api/visits/${id}/reschedule`, { slotId } satisfies RescheduleRequest))} />
      )}
      <VisitResult v={v} />
    </section>
  );
}

function Reschedule({ visit, onPick }: { visit: VisitView; onPick: (slotId: string) => void }) {
  const d = t();
  const [services, setServices] = useState<ServiceInfo[]>();
  useEffect(() => void apiGet<ServiceInfo[]>('/api/visits/services').then(setServices, () => setServices([])), []);
  const service = services?.find((s) => s.name === visit.service);
  if (!services) return <p class="notice">{d.loading}</p>;
  if (!service) return <p class="notice">{d.cz.noSlots}</p>;
  return (
    <div class="card">
      <h2>{d.cz.pickTime}</h2>
      <SlotPicker serviceId={service.id} onChange={(s) => onPick(s.id)} />
    </div>
  );
}
