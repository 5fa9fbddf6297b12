/**
 * Meetings (phiên hội chẩn): the planner (coordinator) and the meeting page — agenda by patient
 * and question, bridge points with their state, participants and chair, calendar file, the video
 * call. No record ids are shown where a name belongs (the server sends the names: MeetingDetails).
 * Facility and practitioner pickers search on the server (thousands of entries); the chair is the
 * person scheduling unless changed. Request and response types come from the server's contracts
 * (type-only imports: nothing of them reaches the bundle).
 */
import type { Appointment, Bundle, Organization, Practitioner } from '@medplum/fhirtypes';
import { useEffect, useState } from 'preact/hooks';
import type { AttendanceInput, CaseRow, MeetingInput, MeetingView } from '../../../src/consult/contract.ts';
import { apiGet, apiSend, entries, fhirGet } from '../api.ts';
import { SearchPicker, type Choice } from '../components/SearchPicker.tsx';
import { displayName } from '../fhir-format.ts';
import { formatDateTime, t, vnDay } from '../i18n.ts';
import { tm } from '../i18n-meetings.ts';
import { navigate } from '../router.ts';
import { me } from '../session.ts';
import '../admin.css';

const local = (d: Date) => new Date(d.getTime() - d.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);

/** Server-side name search (accents optional), 20 at most. */
export async function searchFacilities(q: string): Promise<Choice[]> {
  const b = await fhirGet<Bundle>(`Organization?name:contains=${encodeURIComponent(q)}&_count=20&_sort=name`);
  return entries<Organization>(b, 'Organization').map((o) => ({ id: o.id!, name: o.name ?? '—', detail: o.address?.[0]?.state ?? o.address?.[0]?.city }));
}
export async function searchPractitioners(q: string): Promise<Choice[]> {
  const b = await fhirGet<Bundle>(`Practitioner?name:contains=${encodeURIComponent(q)}&_count=20`);
  return entries<Practitioner>(b, 'Practitioner').map((p) => ({ id: p.id!, name: displayName(p.name), detail: p.qualification?.[0]?.code?.text }));
}

export function MeetingForm() {
  const d = t();
  const m = tm();
  const [cases, setCases] = useState<CaseRow[]>([]);
  const [order, setOrder] = useState<string[]>([]);
  const [sites, setSites] = useState<Choice[]>([]);
  const [people, setPeople] = useState<Choice[]>([]);
  // The chair is the person scheduling, unless changed.
  const [chair, setChair] = useState<Choice[]>(me.value?.practitionerId ? [{ id: me.value.practitionerId, name: me.value.displayName ?? '' }] : []);
  const [error, setError] = useState<string>();
  useEffect(() => {
    apiGet<CaseRow[]>('/api/consults?view=received').then((r) => setCases(r.filter((x) => x.state === 'accepted' || x.state === 'scheduled')));
    // My own facility's bridge point is on the list from the start.
    const org = me.value?.organizationId;
    if (org)
      fhirGet<Organization>(`Organization/${org}`).then(
        (o) => setSites((s) => (s.some((x) => x.id === o.id) ? s : [{ id: o.id!, name: o.name ?? '—' }, ...s])),
        () => undefined,
      );
  }, []);
  const move = (id: string, delta: number) => {
    const i = order.indexOf(id);
    const j = i + delta;
    if (j < 0 || j >= order.length) return;
    const next = [...order];
    [next[i], next[j]] = [next[j], next[i]];
    setOrder(next);
  };
  const start = new Date(Date.now() + 86_400_000);
  start.setMinutes(0, 0, 0);
  return (
    <section>
      <h1>{d.newMeeting}</h1>
      <form
        class="card"
        onSubmit={async (e) => {
          e.preventDefault();
          const f = new FormData(e.target as HTMLFormElement);
          if (!chair[0]) return setError(m.chair);
          const body: MeetingInput = {
            title: String(f.get('title')),
            topic: String(f.get('topic') || '') || undefined,
            start: new Date(String(f.get('start'))).toISOString(),
            end: new Date(String(f.get('end'))).toISOString(),
            hostPractitionerId: chair[0].id,
            caseIds: order,
            siteOrganizationIds: sites.map((x) => x.id),
            participantPractitionerIds: people.map((x) => x.id).filter((x) => x !== chair[0].id),
          };
          try {
            const a = await apiSend<Appointment>('POST', '/api/meetings', body);
            navigate(`/meetings/${a.id}`);
          } catch (err) {
            setError((err as Error).message);
          }
        }}
      >
        <label>
          {d.meetingTitle}
          <input name="title" required maxLength={300} />
        </label>
        <label>
          {d.topic}
          <input name="topic" maxLength={500} />
        </label>
        <div class="row">
          <label>
            {d.startAt}
            <input name="start" type="datetime-local" required defaultValue={local(start)} />
          </label>
          <label>
            {d.endAt}
            <input name="end" type="datetime-local" required defaultValue={local(new Date(start.getTime() + 7_200_000))} />
          </label>
        </div>
        <SearchPicker label={d.host} name="chair" single value={chair} onChange={setChair} search={searchPractitioners} />
        <fieldset>
          <legend>{d.cases}</legend>
          {cases.map(
            (c) =>
              c.caseId && (
                <label class="check" key={c.caseId}>
                  <input
                    type="checkbox"
                    checked={order.includes(c.caseId)}
                    onChange={(e) => setOrder((e.target as HTMLInputElement).checked ? [...order, c.caseId!] : order.filter((x) => x !== c.caseId))}
                  />{' '}
                  {/* A case without a specialty or reason still reads cleanly (no dangling dashes). */}
                  {[c.patient, [c.specialty, c.reason].filter(Boolean).join(': ')].filter(Boolean).join(' — ')}
                </label>
              ),
          )}
          {order.length > 1 && (
            <ol class="agenda">
              {order.map((id) => (
                <li key={id}>
                  {cases.find((c) => c.caseId === id)?.patient}{' '}
                  <button type="button" onClick={() => move(id, -1)}>
                    {d.up}
                  </button>{' '}
                  <button type="button" onClick={() => move(id, 1)}>
                    {d.down}
                  </button>
                </li>
              ))}
            </ol>
          )}
        </fieldset>
        <SearchPicker label={d.sites} name="sites" value={sites} onChange={setSites} search={searchFacilities} />
        <SearchPicker label={d.participants} name="participants" value={people} onChange={setPeople} search={searchPractitioners} />
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" class="primary" disabled={order.length === 0 || sites.length === 0 || chair.length === 0}>
          {d.schedule}
        </button>
      </form>
    </section>
  );
}

export function MeetingPage({ id }: { id: string }) {
  const d = t();
  const m = tm();
  const [s, setS] = useState<MeetingView>();
  const [error, setError] = useState<string>();
  const load = () => apiGet<MeetingView>(`/api/meetings/${id}`).then(setS, (e) => setError((e as Error).message));
  useEffect(() => {
    void load();
    // Bridge points' presence and connection quality change during the meeting: refreshed every 15 s.
    const timer = setInterval(() => void load(), 15_000);
    return () => clearInterval(timer);
  }, [id]);
  if (!s) return <p class={error ? 'error' : 'notice'}>{error ?? d.loading}</p>;
  const a = s.appointment;
  const details = s.details;
  const org = me.value?.organizationId;
  const mark = (event: AttendanceInput['event']) =>
    apiSend('POST', `/api/meetings/${id}/attendance`, { organizationId: org ?? '', event } satisfies AttendanceInput).then(load, (e) =>
      setError((e as Error).message),
    );
  return (
    <article>
      <h1>
        {a.description}{' '}
        <small>
          {formatDateTime(a.start)} – {formatDateTime(a.end)}
        </small>
      </h1>
      {a.start && (
        <p>
          <a href={`/meetings?day=${vnDay(a.start)}`}>{m.onCalendar}</a>
        </p>
      )}
      {a.comment && <p>{a.comment}</p>}
      {error && <p class="error">{error}</p>}
      <section class="card">
        <h2>{d.agenda}</h2>
        {details && !details.started && <p class="meta">{m.notStarted}</p>}
        <ol class="agenda-cases">
          {(details?.cases ?? []).map((c) => (
            <li key={c.caseId}>
              <a href={`/consults/${c.caseId}`}>
                <strong>{c.patient ?? m.patientHidden}</strong>
              </a>
              {c.specialty && <span class="meta"> · {c.specialty}</span>}
              {c.question && (
                <div>
                  {m.question}: {c.question}
                </div>
              )}
            </li>
          ))}
        </ol>
        <a class="button" href={`/api/meetings/${id}/ics`} download>
          {d.downloadIcs}
        </a>
        <button
          type="button"
          class="primary"
          // The video room of a meeting is of kind "session" in the video API.
          onClick={() =>
            apiSend<{ id: string }>('POST', '/api/video/rooms', { kind: 'session', appointmentId: id }).then(
              (r) => navigate(`/call/${r.id}`),
              (e) => setError((e as Error).message),
            )
          }
        >
          {d.video.startCall}
        </button>
      </section>
      <section class="card">
        <h2>{d.sites}</h2>
        <ul class="meeting-sites">
          {(details?.sites ?? []).map((x, i) => (
            <li key={i} class="row">
              <span>{x.name}</span>
              <span class={`badge site-${x.state}`}>{m.states[x.state]}</span>
              {x.live ? (
                <span class={`quality quality-${x.live.quality}`}>
                  {m.connectedNow(x.live.connected)} · {m.quality[x.live.quality]}
                </span>
              ) : (
                x.state !== 'invited' && <span class="meta">{m.notInRoom}</span>
              )}
              {x.since && (
                <span class="meta">
                  {m.since} {formatDateTime(x.since)}
                </span>
              )}
            </li>
          ))}
        </ul>
        <div class="row">
          <button type="button" class="primary" onClick={() => mark('join')}>
            {d.join}
          </button>
          <button type="button" onClick={() => mark('leave')}>
            {d.leave}
          </button>
        </div>
      </section>
      <section class="card">
        <h2>{d.participants}</h2>
        <ul class="meeting-people">
          {(details?.participants ?? []).map((x) => (
            <li key={x.practitionerId}>
              {x.name}
              {x.chair && <strong> · {m.chair}</strong>}
              {x.practitionerId === me.value?.practitionerId && <span class="meta"> {m.chairYou}</span>}
              <span class="meta"> · {m.statuses[x.status] ?? x.status}</span>
            </li>
          ))}
        </ul>
      </section>
    </article>
  );
}
