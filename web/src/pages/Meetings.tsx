/**
 * Meetings (phiên hội chẩn): the planner (coordinator) and the meeting page — agenda, sites,
 * attendance, calendar file, the video call. Request and response types come from the server's
 * contract (type-only import: nothing of it reaches the bundle).
 */
import type { Appointment, Bundle, Organization, Practitioner } from '@medplum/fhirtypes';
import { useEffect, useState } from 'preact/hooks';
import type { AttendanceInput, CaseRow, MeetingInput, MeetingView } from '../../../src/consult/contract.ts';
import { apiGet, apiSend, entries, fhirGet } from '../api.ts';
import { displayName } from '../fhir-format.ts';
import { formatDateTime, t } from '../i18n.ts';
import { navigate } from '../router.ts';
import { me } from '../session.ts';

const local = (d: Date) => new Date(d.getTime() - d.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);

export function MeetingForm() {
  const d = t();
  const [cases, setCases] = useState<CaseRow[]>([]);
  const [order, setOrder] = useState<string[]>([]);
  const [orgs, setOrgs] = useState<Organization[]>([]);
  const [people, setPeople] = useState<Practitioner[]>([]);
  const [error, setError] = useState<string>();
  useEffect(() => {
    apiGet<CaseRow[]>('/api/consults?view=received').then((r) => setCases(r.filter((x) => x.state === 'accepted' || x.state === 'scheduled')));
    fhirGet<Bundle>('Organization?_count=100&_sort=name').then((b) => setOrgs(entries<Organization>(b)));
    fhirGet<Bundle>('Practitioner?_count=100&_sort=family').then((b) => setPeople(entries<Practitioner>(b)));
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
          const checked = (n: string) => f.getAll(n).map(String);
          const body: MeetingInput = {
            title: String(f.get('title')),
            topic: String(f.get('topic') || '') || undefined,
            start: new Date(String(f.get('start'))).toISOString(),
            end: new Date(String(f.get('end'))).toISOString(),
            hostPractitionerId: String(f.get('host')),
            caseIds: order,
            siteOrganizationIds: checked('site'),
            participantPractitionerIds: checked('participant'),
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
        <label>
          {d.host}
          <select name="host" required defaultValue={me.value?.practitionerId}>
            {people.map((p) => (
              <option value={p.id} key={p.id}>
                {displayName(p.name)}
              </option>
            ))}
          </select>
        </label>
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
                  {c.patient} — {c.specialty}: {c.reason}
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
        <fieldset>
          <legend>{d.sites}</legend>
          {orgs.map((o) => (
            <label class="check" key={o.id}>
              <input type="checkbox" name="site" value={o.id} /> {o.name}
            </label>
          ))}
        </fieldset>
        <fieldset>
          <legend>{d.participants}</legend>
          {people.map((p) => (
            <label class="check" key={p.id}>
              <input type="checkbox" name="participant" value={p.id} /> {displayName(p.name)}
            </label>
          ))}
        </fieldset>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" class="primary" disabled={order.length === 0}>
          {d.schedule}
        </button>
      </form>
    </section>
  );
}

export function MeetingPage({ id }: { id: string }) {
  const d = t();
  const [s, setS] = useState<MeetingView>();
  const [error, setError] = useState<string>();
  const load = () => apiGet<MeetingView>(`/api/meetings/${id}`).then(setS, (e) => setError((e as Error).message));
  useEffect(() => void load(), [id]);
  if (!s) return <p class={error ? 'error' : 'notice'}>{error ?? d.loading}</p>;
  const a = s.appointment;
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
      {a.comment && <p>{a.comment}</p>}
      {error && <p class="error">{error}</p>}
      <section class="card">
        <h2>{d.agenda}</h2>
        <ol>
          {(a.basedOn ?? []).map((r) => (
            <li key={r.reference}>
              <a href={`/consults/${r.reference?.split('/')[1]}`}>{r.reference}</a>
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
        <h2>{d.attendance}</h2>
        <ul>
          {(s.attendance?.location ?? []).map((l, i) => (
            <li key={i}>
              {l.location.reference} · {formatDateTime(l.period?.start)} {l.period?.end ? `– ${formatDateTime(l.period.end)}` : ''}
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
    </article>
  );
}
