/** Free slots of a service grouped by day (Vietnam time): pick a day, then a time. */
import { useEffect, useState } from 'preact/hooks';
import { apiGet } from '../../api.ts';
import { t } from '../../i18n.ts';
import type { FreeSlot } from '../../../../src/visits/contract.ts';
import { dedupe } from './shared.ts';

const dayKey = (iso: string) => new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Ho_Chi_Minh' }).format(new Date(iso));
const dayLabel = (iso: string) =>
  new Intl.DateTimeFormat('vi-VN', { timeZone: 'Asia/Ho_Chi_Minh', weekday: 'short', day: '2-digit', month: '2-digit' }).format(new Date(iso));
const timeLabel = (iso: string) => new Intl.DateTimeFormat('vi-VN', { timeZone: 'Asia/Ho_Chi_Minh', hour: '2-digit', minute: '2-digit' }).format(new Date(iso));

/** Free slots of a service grouped by day; a day, then a time. */
export function SlotPicker({ serviceId, value, onChange }: { serviceId: string; value?: string; onChange: (slot: FreeSlot) => void }) {
  const d = t();
  const [slots, setSlots] = useState<FreeSlot[]>();
  const [day, setDay] = useState<string>();
  useEffect(() => {
    setSlots(undefined);
    apiGet<FreeSlot[]>(`/api/visits/services/${serviceId}/slots`).then(
      (s) => {
        setSlots(s);
        setDay(s[0] ? dayKey(s[0].start) : undefined);
      },
      () => setSlots([]),
    );
  }, [serviceId]);
  if (!slots) return <p class="notice">{d.loading}</p>;
  if (!slots.length) return <p class="notice">{d.cz.noSlots}</p>;
  const days = dedupe(slots.map((s) => dayKey(s.start)));
  return (
    <div class="slots">
      <div class="days" role="tablist">
        {days.map((k) => {
          const first = slots.find((s) => dayKey(s.start) === k)!;
          return (
            <button type="button" role="tab" key={k} aria-selected={k === day} class={k === day ? 'tab active' : 'tab'} onClick={() => setDay(k)}>
              {dayLabel(first.start)}
            </button>
          );
        })}
      </div>
      <div class="times">
        {slots
          .filter((s) => dayKey(s.start) === day)
          .map((s) => (
            <button
              type="button"
              key={s.id}
              class={s.id === value ? 'time active' : 'time'}
              aria-pressed={s.id === value}
              onClick={() => onChange(s)}
              title={s.practitioner.name}
            >
              {timeLabel(s.start)}
            </button>
          ))}
      </div>
    </div>
  );
}
