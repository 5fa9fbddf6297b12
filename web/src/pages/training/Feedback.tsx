/**
 * Session feedback on the training pages: the learner's form (a rating from 1 to 5 and an optional
 * comment) for each session they attended and have not rated yet, on the learning page; and the
 * aggregate per session of a course (responses, mean, distribution, comments — no names) for its
 * teachers and the hub's coordinator, on the teacher's page.
 */
import { useState } from 'preact/hooks';
import { apiGet, apiSend } from '../../api.ts';
import { formatDateTime } from '../../i18n.ts';
import { fmt, tt } from '../../i18n-training.ts';
import type { CourseFeedback, SessionView } from '../../../../src/training/contract.ts';

/** One form per session awaiting the learner's feedback; a sent form is replaced by a thank-you. */
export function FeedbackForms(props: { sessions: SessionView[] }) {
  const d = tt();
  const [sent, setSent] = useState<Record<string, boolean>>({});
  const [error, setError] = useState<string>();
  if (!props.sessions.length) return null;
  return (
    <div data-testid="feedback-due">
      <h2>{d.feedbackTitle}</h2>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {props.sessions.map((s) =>
        sent[s.id] ? (
          <p key={s.id} class="notice" role="status">
            {d.feedbackThanks(s.title)}
          </p>
        ) : (
          <form
            key={s.id}
            class="card"
            onSubmit={(e) => {
              e.preventDefault();
              const f = new FormData(e.target as HTMLFormElement);
              const rating = Number(f.get('rating'));
              if (!rating) return setError(d.feedbackPickRating);
              apiSend('POST', `/api/training/sessions/${s.id}/feedback`, { rating, comment: String(f.get('comment') ?? '') }).then(
                () => (setError(undefined), setSent({ ...sent, [s.id]: true })),
                (err: Error) => setError(err.message),
              );
            }}
          >
            <strong>{s.title}</strong>
            <div class="meta">
              {s.courseTitle} · {formatDateTime(s.start)}
            </div>
            <fieldset>
              <legend>{d.feedbackRating}</legend>
              {[1, 2, 3, 4, 5].map((n) => (
                <label key={n} style={{ marginRight: '0.75rem' }}>
                  <input type="radio" name="rating" value={n} /> {n} – {d.feedbackScale[n - 1]}
                </label>
              ))}
            </fieldset>
            <label>
              {d.feedbackComment}
              <textarea name="comment" maxLength={2000} rows={3} />
            </label>
            <button type="submit">{d.feedbackSend}</button>
          </form>
        ),
      )}
    </div>
  );
}

/** The aggregate of a course's feedback, per session, loaded when asked for. */
export function FeedbackSummary(props: { courseId: string; courseTitle: string }) {
  const d = tt();
  const [data, setData] = useState<CourseFeedback>();
  const [error, setError] = useState<string>();
  if (!data)
    return (
      <p>
        <button
          type="button"
          class="secondary"
          onClick={() => apiGet<CourseFeedback>(`/api/training/courses/${props.courseId}/feedback`).then(setData, (e: Error) => setError(e.message))}
        >
          {d.feedbackShow}: {props.courseTitle}
        </button>
        {error && <span class="error"> {error}</span>}
      </p>
    );
  return (
    <div class="table-wrap" data-testid="feedback-summary">
      <table>
        <caption>
          {d.feedbackTitle} – {data.courseTitle}
        </caption>
        <thead>
          <tr>
            <th>{d.sessions}</th>
            <th>{d.feedbackResponses}</th>
            <th>{d.feedbackMean}</th>
            <th>{d.feedbackDistribution}</th>
            <th>{d.feedbackComments}</th>
          </tr>
        </thead>
        <tbody>
          {data.sessions.map((s) => (
            <tr key={s.sessionId}>
              <td>{s.title}</td>
              <td>{d.feedbackOf(s.responses, s.attended)}</td>
              <td>{s.mean === null ? '–' : fmt(s.mean, 1)}</td>
              <td>{s.distribution.map((n, i) => `${i + 1}★ ${n}`).join(' · ')}</td>
              <td>
                {s.comments.length === 0
                  ? '–'
                  : s.comments.map((c, i) => (
                      <p key={i}>
                        {c.rating}★ {c.text}
                      </p>
                    ))}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
