/**
 * The teacher's page (/training/teach): the sessions they teach (or their hub runs), opening a
 * session's room, counting attendance after it, the attendance table, adding a de-identified
 * teaching case from a consult, and each course's results (pre/post means, knowledge gain).
 */
import { useEffect, useState } from 'preact/hooks';
import { apiGet, apiSend } from '../../api.ts';
import { formatDate, formatDateTime, t } from '../../i18n.ts';
import { fmt, tt } from '../../i18n-training.ts';
import { navigate } from '../../router.ts';
import type { SessionResult, TeacherPage } from '../../../../src/training/contract.ts';
import type { CaseRow } from '../../../../src/consult/contract.ts';
import { FeedbackSummary } from './Feedback.tsx';

export function Teaching() {
  const d = tt();
  const g = t();
  const [page, setPage] = useState<TeacherPage>();
  const [results, setResults] = useState<Record<string, SessionResult>>({});
  const [error, setError] = useState<string>();
  const [message, setMessage] = useState<string>();
  const [cases, setCases] = useState<CaseRow[]>([]);
  const load = () => apiGet<TeacherPage>('/api/training/teaching').then(setPage, (e) => setError((e as Error).message));
  useEffect(() => {
    void load();
    // The cases the teacher's hospital received: a teaching case is chosen from them (de-identified on the server).
    apiGet<CaseRow[]>('/api/consults?view=received').then(setCases, () => undefined);
  }, []);
  if (!page) return error ? <p class="error">{error}</p> : <p class="notice">{g.loading}</p>;
  const act = (fn: () => Promise<unknown>) => {
    setError(undefined);
    fn().catch((e) => setError((e as Error).message));
  };
  const showAttendance = (id: string, r?: SessionResult) =>
    act(async () => setResults({ ...results, [id]: r ?? (await apiGet<SessionResult>(`/api/training/sessions/${id}/attendance`)) }));
  return (
    <section class="training">
      <h1>{d.teacherTitle}</h1>
      {error && <p class="error">{error}</p>}
      {message && (
        <p class="ok" role="status">
          {message}
        </p>
      )}
      <ul class="training-list" style={{ listStyle: 'none', padding: 0 }}>
        {page.sessions.map((s) => (
          <li key={s.id} class="card" data-testid="teach-session">
            <strong>{s.title}</strong>
            <div class="meta">
              {s.courseTitle} · {formatDateTime(s.start)} · {d.periods(fmt(s.credits))}
              {s.closed ? ` · ${d.closed} · ${d.attended(s.attended, s.counted)}` : ''}
            </div>
            <div class="actions">
              {!s.closed && (
                <button
                  type="button"
                  onClick={() =>
                    act(async () =>
                      navigate(`/call/${(await apiSend<{ id: string }>('POST', '/api/video/rooms', { kind: 'session', appointmentId: s.id })).id}`),
                    )
                  }
                >
                  {d.openRoom}
                </button>
              )}
              {!s.closed && (
                <button
                  type="button"
                  class="secondary"
                  onClick={() =>
                    act(async () => {
                      showAttendance(s.id, await apiSend<SessionResult>('POST', `/api/training/sessions/${s.id}/close`));
                      await load();
                    })
                  }
                >
                  {d.closeSession}
                </button>
              )}
              {s.closed && (
                <button type="button" class="secondary" onClick={() => showAttendance(s.id)}>
                  {d.attendance}
                </button>
              )}
            </div>
            <form
              class="row"
              onSubmit={(e) => {
                e.preventDefault();
                const caseId = String(new FormData(e.target as HTMLFormElement).get('caseId') ?? '').trim();
                act(async () => {
                  await apiSend('POST', `/api/training/sessions/${s.id}/teaching-cases`, { caseId });
                  setMessage(d.created);
                });
              }}
            >
              <label>
                {d.caseId}
                <select name="caseId" required>
                  <option value="">–</option>
                  {cases
                    .filter((c) => c.caseId)
                    .map((c) => (
                      <option key={c.caseId} value={c.caseId}>
                        {[c.reason, c.specialty, formatDate(c.authoredOn)].filter(Boolean).join(' · ')}
                      </option>
                    ))}
                </select>
              </label>
              <button type="submit">{d.addCase}</button>
            </form>
            {results[s.id] && (
              <div class="table-wrap">
                <table data-testid="attendance">
                  <thead>
                    <tr>
                      <th>{d.name}</th>
                      <th>{d.facility}</th>
                      <th>{d.minutes}</th>
                      <th>{d.share}</th>
                      <th>{d.counted}</th>
                    </tr>
                  </thead>
                  <tbody>
                    {results[s.id].attendance.map((r, i) => (
                      <tr key={i}>
                        <td>{r.name}</td>
                        <td>{r.organizationName}</td>
                        <td>{fmt(r.minutes)}</td>
                        <td>{fmt(r.share * 100, 0)} %</td>
                        <td>{r.counted ? d.yes : d.no}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
            )}
          </li>
        ))}
      </ul>
      <h2>{d.results}</h2>
      <div class="table-wrap">
        <table>
          <thead>
            <tr>
              <th>{d.courses}</th>
              <th>{d.learners}</th>
              <th>{d.pre}</th>
              <th>{d.post}</th>
              <th>{d.gain}</th>
              <th>{d.passed}</th>
            </tr>
          </thead>
          <tbody>
            {page.results.map((r) => (
              <tr key={r.courseId}>
                <td>{r.courseTitle}</td>
                <td>{r.learners}</td>
                <td>{r.preMean === null ? '–' : `${fmt(r.preMean)} %`}</td>
                <td>{r.postMean === null ? '–' : `${fmt(r.postMean)} %`}</td>
                <td>{r.gain === null ? '–' : `${fmt(r.gain)}`}</td>
                <td>{r.passed}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <h2>{d.feedbackTitle}</h2>
      {page.results.map((r) => (
        <FeedbackSummary key={r.courseId} courseId={r.courseId} courseTitle={r.courseTitle} />
      ))}
    </section>
  );
}
