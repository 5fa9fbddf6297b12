/**
 * The hub coordinator's programme page (/training/hub): the hospital's programmes and courses
 * (places taken, waiting list), a new programme, a new course with its sessions and test
 * questions, and the technology-transfer packages with their steps (marking the facility
 * independent too early shows the server's reason).
 */
import { useEffect, useState } from 'preact/hooks';
import type { Bundle, Practitioner } from '@medplum/fhirtypes';
import { apiGet, apiSend, entries, fhirGet } from '../../api.ts';
import { formatDate, t } from '../../i18n.ts';
import { tt } from '../../i18n-training.ts';
import type { CourseView, ProgrammeView, TransferView } from '../../../../src/training/contract.ts';
import { Notices } from '../../components/Notices.tsx';

type Question = { text: string; options: string[]; correct: number };

/** "Question | option | *right option | option" per line. */
export function parseQuestions(text: string): Question[] | number {
  const out: Question[] = [];
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  for (const [i, line] of lines.entries()) {
    const [q, ...opts] = line.split('|').map((x) => x.trim());
    const correct = opts.findIndex((o) => o.startsWith('*'));
    if (!q || opts.length < 2 || correct < 0 || opts.filter((o) => o.startsWith('*')).length !== 1) return i + 1;
    out.push({ text: q, options: opts.map((o) => o.replace(/^\*\s*/, '')), correct });
  }
  return out;
}

const local = (d: Date) => new Date(d.getTime() - d.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);

export function Hub() {
  const d = tt();
  const g = t();
  const [programmes, setProgrammes] = useState<ProgrammeView[]>();
  const [transfers, setTransfers] = useState<TransferView[]>([]);
  const [teachers, setTeachers] = useState<Practitioner[]>([]);
  const [sessions, setSessions] = useState(2);
  const [error, setError] = useState<string>();
  const [message, setMessage] = useState<string>();
  const load = () => {
    apiGet<ProgrammeView[]>('/api/training/hub/programmes').then(setProgrammes, (e) => setError((e as Error).message));
    apiGet<TransferView[]>('/api/training/transfers').then(setTransfers, () => undefined);
  };
  useEffect(() => {
    load();
    fhirGet<Bundle>('Practitioner?_count=100').then(
      (b) => setTeachers(entries<Practitioner>(b, 'Practitioner')),
      () => undefined,
    );
  }, []);
  if (!programmes) return error ? <p class="error">{error}</p> : <p class="notice">{g.loading}</p>;
  const act = (fn: () => Promise<unknown>) => {
    setError(undefined);
    setMessage(undefined);
    fn().then(
      () => {
        setMessage(d.created);
        load();
      },
      (e) => setError((e as Error).message),
    );
  };
  const newProgramme = (e: Event) => {
    e.preventDefault();
    const f = new FormData(e.target as HTMLFormElement);
    act(() => apiSend('POST', '/api/training/programmes', { title: String(f.get('title')), description: String(f.get('description') ?? '') }));
  };
  const newCourse = (e: Event) => {
    e.preventDefault();
    const f = new FormData(e.target as HTMLFormElement);
    const post = parseQuestions(String(f.get('questions') ?? ''));
    if (typeof post === 'number') return setError(d.badQuestions(post));
    const list = [...Array(sessions).keys()].map((i) => ({
      title: String(f.get(`s${i}title`)),
      start: new Date(String(f.get(`s${i}start`))).toISOString(),
      end: new Date(String(f.get(`s${i}end`))).toISOString(),
      credits: Number(String(f.get(`s${i}credits`)).replace(',', '.')),
    }));
    act(() =>
      apiSend<CourseView>('POST', '/api/training/courses', {
        programmeId: String(f.get('programmeId')),
        title: String(f.get('title')),
        capacity: Number(f.get('capacity')),
        teacherPractitionerIds: [String(f.get('teacher'))],
        sessions: list,
        prerequisiteCourseIds: f.getAll('prerequisite').map(String),
        postTest: post,
        preTest: f.get('samePre') ? post : [],
      }),
    );
  };
  const now = Date.now();
  return (
    <section class="training">
      <h1>{d.hubTitle}</h1>
      <Notices error={error} message={message} />
      {programmes.map((p) => (
        <div key={p.id} class="card" data-testid="programme">
          <strong>{p.title}</strong>
          {p.description && <p>{p.description}</p>}
          <ul>
            {p.courses.map((c) => (
              <li key={c.id}>
                <a href={`/training/courses/${c.id}`}>{c.title}</a> · {d.places(c.enrolled, c.capacity)} · {d.waiting}: {c.waiting} · {d.sessions}: {c.sessions}
              </li>
            ))}
          </ul>
        </div>
      ))}
      <form class="card" onSubmit={newProgramme}>
        <h2>{d.newProgramme}</h2>
        <label>
          {d.title}
          <input name="title" required minLength={3} />
        </label>
        <label>
          {d.description}
          <textarea name="description" rows={2} />
        </label>
        <button type="submit">{d.create}</button>
      </form>
      {programmes.length > 0 && (
        <form class="card" onSubmit={newCourse} data-testid="new-course">
          <h2>{d.newCourse}</h2>
          <label>
            {d.programme}
            <select name="programmeId">
              {programmes.map((p) => (
                <option key={p.id} value={p.id}>
                  {p.title}
                </option>
              ))}
            </select>
          </label>
          <label>
            {d.title}
            <input name="title" required minLength={3} />
          </label>
          <label>
            {d.capacity}
            <input name="capacity" type="number" min={1} value={30} required />
          </label>
          {programmes.some((p) => p.courses.length > 0) && (
            <label>
              {d.prerequisites}
              <select
                name="prerequisite"
                multiple
                size={Math.min(
                  4,
                  programmes.reduce((n, p) => n + p.courses.length, 0),
                )}
              >
                {programmes.flatMap((p) =>
                  p.courses.map((c) => (
                    <option key={c.id} value={c.id}>
                      {c.title}
                    </option>
                  )),
                )}
              </select>
            </label>
          )}
          <label>
            {d.teachers}
            <select name="teacher">
              {teachers.map((p) => (
                <option key={p.id} value={p.id}>
                  {p.name?.[0]?.text ?? [p.name?.[0]?.family, ...(p.name?.[0]?.given ?? [])].join(' ')}
                </option>
              ))}
            </select>
          </label>
          {[...Array(sessions).keys()].map((i) => (
            <fieldset key={i}>
              <legend>{d.sessionTitle(i + 1)}</legend>
              <label>
                {d.title}
                <input name={`s${i}title`} required value={d.sessionTitle(i + 1)} />
              </label>
              <label>
                {d.start}
                <input name={`s${i}start`} type="datetime-local" required value={local(new Date(now + i * 7 * 86_400_000))} />
              </label>
              <label>
                {d.end}
                <input name={`s${i}end`} type="datetime-local" required value={local(new Date(now + i * 7 * 86_400_000 + 3_600_000))} />
              </label>
              <label>
                {d.creditsField}
                <input name={`s${i}credits`} inputMode="decimal" required value="4" />
              </label>
            </fieldset>
          ))}
          <button type="button" class="secondary" onClick={() => setSessions(sessions + 1)}>
            {d.addSession}
          </button>
          <label>
            {d.questions}
            <textarea name="questions" rows={4} />
          </label>
          <label class="check">
            <input type="checkbox" name="samePre" checked /> {d.sameForPre}
          </label>
          <button type="submit">{d.create}</button>
        </form>
      )}
      <h2>{d.transfers}</h2>
      {transfers.map((x) => (
        <div key={x.id} class="card" data-testid="transfer">
          <strong>{x.technique}</strong> — {x.facilityName}
          <div class="meta">
            {d.supervised(x.signedOffCases, x.minSupervisedCases)}
            {x.independentSince ? ` · ${d.independentSince(formatDate(x.independentSince))}` : ''}
          </div>
          <ul>
            {x.steps.map((s) => (
              <li key={s.step}>
                {d.step[s.step]}: {s.status === 'done' ? d.stepDone : d.stepPending}
              </li>
            ))}
          </ul>
          {!x.independentSince && (
            <button type="button" onClick={() => act(() => apiSend('POST', `/api/training/transfers/${x.id}/independent`))}>
              {d.markIndependent}
            </button>
          )}
        </div>
      ))}
    </section>
  );
}
