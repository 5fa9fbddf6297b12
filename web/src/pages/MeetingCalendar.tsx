/**
 * The list and calendar of case-conference meetings: a day or a week (Vietnam time), moved with
 * previous / today / next, filtered by bridge point (facility). Only meetings one is invited to
 * (oneself or one's facility's bridge point) — the server decides (GET /api/meetings).
 * `/meetings?day=yyyy-mm-dd` opens on that day's week (the meeting page links there), else today.
 */
import { useEffect, useState } from 'preact/hooks';
import type { MeetingListItem } from '../../../src/consult/meeting-contract.ts';
import { apiGet } from '../api.ts';
import { formatDate, lang, t, vnDay } from '../i18n.ts';
import { tm } from '../i18n-meetings.ts';
import { path } from '../router.ts';
import { isInstant } from '../../../src/platform/vietnam-time.ts';
import '../admin.css';

const DAY = 86_400_000;
/** The calendar day n days after a yyyy-mm-dd day. */
const addDays = (day: string, n: number) => new Date(Date.parse(`${day}T00:00:00Z`) + n * DAY).toISOString().slice(0, 10);
const time = (iso: string) => new Intl.DateTimeFormat('vi-VN', { timeZone: 'Asia/Ho_Chi_Minh', hour: '2-digit', minute: '2-digit' }).format(new Date(iso));
const weekday = (day: string) =>
  new Intl.DateTimeFormat(lang.value === 'en' ? 'en-GB' : 'vi-VN', { weekday: 'long', timeZone: 'UTC' }).format(new Date(`${day}T00:00:00Z`));

/** The day asked for in the address, if it is a real calendar day (not 2026-02-31) of years 2000–2099. */
function askedDay(): string | undefined {
  const day = new URLSearchParams(path.value.split('?')[1] ?? '').get('day') ?? '';
  return /^20\d{2}-\d{2}-\d{2}$/.test(day) && isInstant(day) ? day : undefined;
}

export function MeetingCalendar() {
  const d = t();
  const m = tm();
  const [mode, setMode] = useState<'day' | 'week'>('week');
  const asked = askedDay();
  const [anchor, setAnchor] = useState(() => asked ?? vnDay(Date.now()));
  // The address changed while the page is open (a link to another day, or back to /meetings).
  useEffect(() => setAnchor(asked ?? vnDay(Date.now())), [asked]);
  const [facility, setFacility] = useState('');
  const [list, setList] = useState<MeetingListItem[]>();
  const [error, setError] = useState<string>();
  // A week starts on Monday.
  const start = mode === 'day' ? anchor : addDays(anchor, -((new Date(`${anchor}T00:00:00Z`).getUTCDay() + 6) % 7));
  const days = Array.from({ length: mode === 'day' ? 1 : 7 }, (_, i) => addDays(start, i));
  const end = days[days.length - 1];
  useEffect(() => {
    setList(undefined);
    apiGet<MeetingListItem[]>(`/api/meetings?from=${start}&to=${end}`).then(setList, (e) => setError((e as Error).message));
  }, [start, end]);
  const facilities = new Map<string, string>();
  for (const x of list ?? []) for (const s of x.sites) if (s.organizationId) facilities.set(s.organizationId, s.name);
  const shown = (list ?? []).filter((x) => !facility || x.sites.some((s) => s.organizationId === facility));
  const move = (n: number) => setAnchor(addDays(anchor, n * (mode === 'day' ? 1 : 7)));
  return (
    <section>
      <h1>{m.calendarTitle}</h1>
      <div class="toolbar">
        <div class="row" role="group" aria-label={m.calendarTitle}>
          <button type="button" class={`tab${mode === 'day' ? ' active' : ''}`} aria-pressed={mode === 'day'} onClick={() => setMode('day')}>
            {m.day}
          </button>
          <button type="button" class={`tab${mode === 'week' ? ' active' : ''}`} aria-pressed={mode === 'week'} onClick={() => setMode('week')}>
            {m.week}
          </button>
        </div>
        <div class="row">
          <button type="button" onClick={() => move(-1)}>
            {m.prev}
          </button>
          <button type="button" onClick={() => setAnchor(vnDay(Date.now()))}>
            {m.today}
          </button>
          <button type="button" onClick={() => move(1)}>
            {m.next}
          </button>
        </div>
        <label>
          <span class="sr-only">{m.facility}</span>
          <select value={facility} onChange={(e) => setFacility((e.target as HTMLSelectElement).value)}>
            <option value="">{m.allFacilities}</option>
            {[...facilities].map(([id, name]) => (
              <option key={id} value={id}>
                {name}
              </option>
            ))}
          </select>
        </label>
        <a class="button primary" href="/meetings/new">
          {d.newMeeting}
        </a>
      </div>
      <p class="meta">{mode === 'day' ? formatDate(start) : `${formatDate(start)} – ${formatDate(end)}`}</p>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {list && shown.length === 0 && <p class="notice">{m.noMeetings}</p>}
      <ol class="calendar">
        {days.map((day) => {
          const today = shown.filter((x) => vnDay(x.start) === day);
          if (mode === 'week' && today.length === 0) return null;
          return (
            <li key={day} class="calendar-day">
              <h2>
                {weekday(day)} {formatDate(day)}
              </h2>
              <ul class="admin-list">
                {today.map((x) => (
                  <li key={x.id} class="card meeting-item">
                    <a href={`/meetings/${x.id}`}>
                      <strong>
                        {time(x.start)}–{time(x.end)} · {x.title}
                      </strong>
                    </a>
                    <div class="meta">
                      {x.chair && `${m.chair}: ${x.chair} · `}
                      {m.casesCount(x.cases)}
                    </div>
                    <div class="meta">{x.sites.map((s) => s.name).join(', ')}</div>
                  </li>
                ))}
              </ul>
            </li>
          );
        })}
      </ol>
    </section>
  );
}
