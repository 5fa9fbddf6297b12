/**
 * The clinician's learning page (/training): coming sessions (join the room), courses (mine, and
 * those open to enrol), CME periods against the licence-cycle requirement, certificates (PDF and
 * the public check). And a course page (/training/courses/:id): sessions, materials, teaching
 * cases of each session, the pre/post tests, enrolment.
 */
import { useEffect, useState } from 'preact/hooks';
import { apiGet, apiSend } from '../../api.ts';
import { formatDate, formatDateTime, t } from '../../i18n.ts';
import { fmt, tt } from '../../i18n-training.ts';
import { navigate } from '../../router.ts';
import { me } from '../../session.ts';
import { FeedbackForms } from './Feedback.tsx';
import type {
  AssessmentResult,
  CourseView,
  EnrolResult,
  LearningPage,
  ProgrammeView,
  QuestionView,
  TeachingCaseView,
} from '../../../../src/training/contract.ts';

async function joinSession(id: string): Promise<void> {
  const r = await apiSend<{ id: string }>('POST', '/api/video/rooms', { kind: 'session', appointmentId: id });
  navigate(`/call/${r.id}`);
}

export function Learning() {
  const d = tt();
  const role = me.value?.role;
  const g = t();
  const [page, setPage] = useState<LearningPage>();
  const [programmes, setProgrammes] = useState<ProgrammeView[]>([]);
  const [error, setError] = useState<string>();
  useEffect(() => {
    apiGet<LearningPage>('/api/training/me').then(setPage, (e) => setError((e as Error).message));
    apiGet<ProgrammeView[]>('/api/training/programmes').then(setProgrammes, () => undefined);
  }, []);
  if (error) return <p class="error">{error}</p>;
  if (!page) return <p class="notice">{g.loading}</p>;
  const mine = new Set(page.courses.map((c) => c.id));
  return (
    <section class="training">
      <h1>{d.learningTitle}</h1>
      {(role === 'specialist' || role === 'coordinator') && (
        <p class="toolbar">
          <a href="/training/teach">{d.navTeaching}</a>
          {role === 'coordinator' && <a href="/training/hub">{d.navHub}</a>}
        </p>
      )}
      <div class="card" data-testid="credits">
        <h2>{d.credits}</h2>
        <p class="kpi">
          <strong>{d.creditsOf(fmt(page.credits.total), fmt(page.credits.required), page.credits.cycleYears)}</strong>
        </p>
        <progress max={page.credits.required} value={Math.min(page.credits.total, page.credits.required)} aria-label={d.credits} />
        <p class="hint">{page.credits.rule}</p>
      </div>
      <h2>{d.upcoming}</h2>
      {page.upcoming.length === 0 && <p class="notice">{d.noUpcoming}</p>}
      <ul class="training-list" style={{ listStyle: 'none', padding: 0 }}>
        {page.upcoming.map((s) => (
          <li key={s.id} class="card">
            <strong>{s.title}</strong>
            <div class="meta">
              {s.courseTitle} · {formatDateTime(s.start)} · {d.periods(fmt(s.credits))}
            </div>
            <button type="button" onClick={() => void joinSession(s.id).catch((e) => setError((e as Error).message))}>
              {d.join}
            </button>
          </li>
        ))}
      </ul>
      <FeedbackForms sessions={page.feedbackDue} />
      <h2>{d.myCourses}</h2>
      <ul>
        {page.courses.map((c) => (
          <li key={c.id}>
            <a href={`/training/courses/${c.id}`}>{c.title}</a> — {c.status === 'enrolled' ? d.enrolled : d.waiting}
          </li>
        ))}
      </ul>
      <h2>{d.certificates}</h2>
      {page.certificates.length === 0 && <p class="notice">{d.noCertificates}</p>}
      <ul data-testid="certificates">
        {page.certificates.map((c) => (
          <li key={c.id} class="card">
            <strong>{c.courseTitle}</strong>
            <div class="meta">
              {formatDate(c.issuedAt)} · {d.periods(fmt(c.credits))}
            </div>
            <a href={c.pdfUrl} target="_blank" rel="noopener">
              {d.pdf}
            </a>{' '}
            · <a href={c.verifyUrl}>{d.verify}</a>
          </li>
        ))}
      </ul>
      <h2>{d.available}</h2>
      {programmes.map((p) => (
        <div key={p.id} class="card">
          <strong>{p.title}</strong>
          <div class="meta">
            {d.hub}: {p.hubName}
          </div>
          <ul>
            {p.courses.map((c) => (
              <li key={c.id}>
                <a href={`/training/courses/${c.id}`}>{c.title}</a> · {d.places(c.enrolled, c.capacity)}
                {mine.has(c.id) ? ` · ${d.enrolled}` : ''}
              </li>
            ))}
          </ul>
        </div>
      ))}
    </section>
  );
}

function Test(props: { courseId: string; phase: 'pre' | 'post'; questions: QuestionView[]; onDone: (r: AssessmentResult) => void }) {
  const d = tt();
  const [error, setError] = useState<string>();
  const submit = async (e: Event) => {
    e.preventDefault();
    const f = new FormData(e.target as HTMLFormElement);
    const answers = props.questions.map((_, i) => Number(f.get(`q${i}`) ?? -1));
    if (answers.some((a) => a < 0)) return setError(d.answerAll);
    try {
      props.onDone(await apiSend<AssessmentResult>('POST', `/api/training/courses/${props.courseId}/answers`, { phase: props.phase, answers }));
    } catch (err) {
      setError((err as Error).message);
    }
  };
  return (
    <form class="card" onSubmit={submit} data-testid={`test-${props.phase}`}>
      <h3>{props.phase === 'pre' ? d.preTest : d.postTest}</h3>
      {props.questions.map((q, i) => (
        <fieldset key={i}>
          <legend>
            {i + 1}. {q.text}
          </legend>
          {q.options.map((o, j) => (
            <label key={j} class="check">
              <input type="radio" name={`q${i}`} value={j} /> {o}
            </label>
          ))}
        </fieldset>
      ))}
      {error && <p class="error">{error}</p>}
      <button type="submit">{d.submit}</button>
    </form>
  );
}

export function CoursePage(props: { id: string }) {
  const d = tt();
  const g = t();
  const [course, setCourse] = useState<CourseView>();
  const [cases, setCases] = useState<Record<string, TeachingCaseView[]>>({});
  const [message, setMessage] = useState<string>();
  const [error, setError] = useState<string>();
  const load = () =>
    apiGet<CourseView>(`/api/training/courses/${props.id}`).then(
      async (c) => {
        setCourse(c);
        if (c.mine !== 'enrolled') return;
        const all: Record<string, TeachingCaseView[]> = {};
        for (const s of c.sessions) all[s.id] = await apiGet<TeachingCaseView[]>(`/api/training/sessions/${s.id}/teaching-cases`).catch(() => []);
        setCases(all);
      },
      (e) => setError((e as Error).message),
    );
  useEffect(() => void load(), [props.id]);
  if (error) return <p class="error">{error}</p>;
  if (!course) return <p class="notice">{g.loading}</p>;
  const c = course;
  const enrol = async (facility: boolean) => {
    try {
      const r = await apiSend<EnrolResult>('POST', `/api/training/courses/${c.id}/enrol`, { facility });
      setMessage(r.status === 'enrolled' ? d.enrolled : d.waitingAt(r.position ?? 1));
      await load();
    } catch (e) {
      setError((e as Error).message);
    }
  };
  const done = (r: AssessmentResult) => setMessage(`${d.score(r.score, r.passed)}${r.certificate ? ` ${d.certificateIssued}` : ''}`);
  return (
    <section class="training">
      <h1>{c.title}</h1>
      <p class="meta">
        {c.programmeTitle} · {d.hub}: {c.hubName} · {d.teachers}: {c.teachers.join(', ')}
      </p>
      <p class="meta">
        {d.places(c.enrolled, c.capacity)} · {d.minShare(fmt(c.minShare * 100, 0) + ' %')} · {d.passMark(c.passMark)}
      </p>
      {message && (
        <p class="ok" role="status">
          {message}
        </p>
      )}
      {c.mine === 'none' && (
        <div class="actions">
          <button type="button" onClick={() => void enrol(false)}>
            {d.enrol}
          </button>
          <button type="button" class="secondary" onClick={() => void enrol(true)}>
            {d.enrolFacility}
          </button>
        </div>
      )}
      {c.mine === 'waiting' && <p class="notice">{d.waiting}</p>}
      {c.prerequisites.length > 0 && (
        <p class="notice" data-testid="prerequisites">
          {d.prerequisitesNeeded}{' '}
          {c.prerequisites.map((x, i) => (
            <span key={x.id}>
              {i > 0 && ', '}
              <a href={`/training/courses/${x.id}`}>{x.title}</a>
            </span>
          ))}
        </p>
      )}
      <h2>{d.sessions}</h2>
      <ol class="training-list" style={{ paddingLeft: '1.2rem' }}>
        {c.sessions.map((s) => (
          <li key={s.id} class="card">
            <strong>{s.title}</strong>
            <div class="meta">
              {formatDateTime(s.start)} – {formatDateTime(s.end)} · {d.periods(fmt(s.credits))}
              {s.closed ? ` · ${d.closed}` : ''}
            </div>
            {s.roomId && (
              <a class="button secondary" href={`/call/${s.roomId}/recordings`}>
                {d.recordings}
              </a>
            )}
            {c.mine === 'enrolled' && !s.closed && (
              <button type="button" onClick={() => void joinSession(s.id).catch((e) => setError((e as Error).message))}>
                {d.join}
              </button>
            )}
            {(cases[s.id] ?? []).map((tc) => (
              <article key={tc.id} class="case" data-testid="teaching-case">
                <h3>{d.teachingCases}</h3>
                <p class="meta">
                  {d.ageBand}: {tc.content.ageBand}
                  {tc.content.month ? ` · ${d.month}: ${tc.content.month}` : ''} · {tc.content.reason.join('; ')}
                </p>
                {[...tc.content.summary, ...tc.content.conclusion].map((x, i) => (
                  <p key={i}>
                    {x.title && <strong>{x.title}: </strong>}
                    {x.text}
                  </p>
                ))}
              </article>
            ))}
          </li>
        ))}
      </ol>
      {c.materials.length > 0 && (
        <>
          <h2>{d.materials}</h2>
          <ul>
            {c.materials.map((m) => (
              <li key={m.url}>
                <a href={m.url} target="_blank" rel="noopener">
                  {m.title}
                </a>
              </li>
            ))}
          </ul>
        </>
      )}
      {c.mine === 'enrolled' && c.preTest && <Test courseId={c.id} phase="pre" questions={c.preTest} onDone={done} />}
      {c.mine === 'enrolled' && c.postTest && <Test courseId={c.id} phase="post" questions={c.postTest} onDone={done} />}
    </section>
  );
}
