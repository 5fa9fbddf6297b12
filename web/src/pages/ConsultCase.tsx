/**
 * One case: summary, attachments, meetings, decision, timeline, and the actions this person may take
 * now (their forms are in consult-case/: triage, conclusion, acknowledge, follow-up).
 * Request and response types come from the server's contract (type-only import).
 */
import { useEffect, useState } from 'preact/hooks';
import type { CaseView } from '../../../src/consult/contract.ts';
import { apiGet } from '../api.ts';
import { displayName, genderLabel } from '../fhir-format.ts';
import { formatDate, formatDateTime, lang, t } from '../i18n.ts';
import { LiveEventStream } from '../live.ts';
import { me } from '../session.ts';
import { Acknowledge } from './consult-case/Acknowledge.tsx';
import { ConsultClaim } from './consult-case/Claim.tsx';
import { Conclusion } from './consult-case/Conclusion.tsx';
import { ChartImaging } from '../imaging/ChartImaging.tsx';
import { FollowUp } from './consult-case/FollowUp.tsx';
import { sectionText } from './consult-case/shared.ts';
import { Triage } from './consult-case/Triage.tsx';
import { Notices } from '../components/Notices.tsx';

export function ConsultCase({ id }: { id: string }) {
  const d = t();
  const [c, setC] = useState<CaseView>();
  const [error, setError] = useState<string>();
  const [message, setMessage] = useState<string>();
  const load = () => apiGet<CaseView>(`/api/consults/${id}`).then(setC, (e) => setError((e as Error).message));
  useEffect(() => {
    void load();
    const live = new LiveEventStream().on('consult.state', (e) => {
      if (e.caseId === id) void load();
    });
    return () => live.close();
  }, [id]);

  const act = async (fn: () => Promise<unknown>, done?: string) => {
    setError(undefined);
    try {
      await fn();
      setMessage(done);
      await load();
    } catch (e) {
      setError((e as Error).message);
    }
  };

  if (!c) return <p class={error ? 'error' : 'notice'}>{error ?? d.loading}</p>;
  const m = me.value!;
  const requester = m.organizationId === c.requestingOrganization?.id;
  const receiver = m.organizationId === c.receivingOrganization?.id;
  const assigned = c.specialists.some((s) => s?.id === m.practitionerId);
  const signedByMe = (c.conclusion?.attester ?? []).some((a) => a.party?.reference === `Practitioner/${m.practitionerId}`);
  const name = (ref: string) => {
    const p = c.specialists.find((s) => `Practitioner/${s?.id}` === ref);
    return p ? displayName(p.name) : ref;
  };

  return (
    <article class="case">
      <a href="/consults" class="back">
        ← {d.consultsTitle}
      </a>
      <h1>
        <span class={`badge u-${c.urgency}`}>{d.urgencies[c.urgency]}</span> {displayName(c.patient.name as never)}
        <small>
          {c.request.code?.text} · {c.stateLabel[lang.value]}
        </small>
      </h1>
      <p class="meta">
        {genderLabel(c.patient.gender)} · {formatDate(c.patient.birthDate)} · {c.requestingOrganization?.name} → {c.receivingOrganization?.name}
      </p>
      <Notices error={error} message={message} />

      <section class="card">
        <h2>{d.summaryTitle}</h2>
        <p>
          <strong>{d.reasonLabel}:</strong> {c.request.reasonCode?.[0]?.text} (<code>{c.request.reasonCode?.[0]?.coding?.[0]?.code}</code>{' '}
          {c.request.reasonCode?.[0]?.coding?.[0]?.display})
        </p>
        {(c.summary?.section ?? []).map((s) => (
          <div key={s.title}>
            <h3>{s.title}</h3>
            <p class="pre">{sectionText(s.text?.div)}</p>
          </div>
        ))}
        {c.attachments.length > 0 && (
          <div class="attachments">
            {c.attachments.map((a) =>
              a.content[0].attachment.contentType?.startsWith('image/') ? (
                <a href={`/api/attachments/${a.id}`} target="_blank" rel="noopener" key={a.id}>
                  <img src={`/api/attachments/${a.id}`} alt={a.content[0].attachment.title} />
                </a>
              ) : (
                <a href={`/api/attachments/${a.id}`} target="_blank" rel="noopener" key={a.id}>
                  {a.content[0].attachment.title}
                </a>
              ),
            )}
          </div>
        )}
      </section>

      {receiver && c.state === 'submitted' && m.role !== 'commune_clinician' && <Triage c={c} act={act} />}

      {c.meetings.length > 0 && (
        <section class="card">
          <h2>{d.meetingsTitle}</h2>
          <ul>
            {c.meetings.map((s) => (
              <li key={s.id}>
                <a href={`/meetings/${s.id}`}>{s.description}</a> · {formatDateTime(s.start)}
              </li>
            ))}
          </ul>
        </section>
      )}

      {(c.conclusion || (assigned && ['accepted', 'scheduled'].includes(c.state))) && (
        <Conclusion
          c={c}
          act={act}
          canEdit={assigned && ['accepted', 'scheduled'].includes(c.state) && !(c.conclusion?.meta?.tag ?? []).some((x) => x.code === 'signed')}
          canSign={assigned && ['accepted', 'scheduled'].includes(c.state) && !!c.conclusion && !signedByMe}
          name={name}
        />
      )}

      {requester && c.state === 'concluded' && <Acknowledge c={c} act={act} />}
      {/* The hub's insurance claim: its staff holding claims.submit (the coordinator; facility administrators do not open cases). */}
      {receiver && m.role === 'coordinator' && !!c.conclusion && ['concluded', 'acknowledged', 'closed'].includes(c.state) && <ConsultClaim caseId={id} />}
      {requester && c.state === 'acknowledged' && <FollowUp c={c} act={act} />}

      {c.decision && (
        <section class="card">
          <h2>{d.decidedBy}</h2>
          <p>
            <strong>{c.decision.decision === 'accept' ? d.acceptAdvice : d.differentDecision}</strong>
            {c.decision.reason && <> — {c.decision.reason}</>}
          </p>
          {c.decision.plan && <p>{c.decision.plan}</p>}
          {c.outcome && (
            <p>
              {d.followUpTitle}: <strong>{d.outcomes[c.outcome]}</strong>
            </p>
          )}
        </section>
      )}

      {c.patient.id && <ChartImaging patientId={c.patient.id} />}
      <section class="card">
        <h2>{d.timeline}</h2>
        <ol class="timeline">
          {c.timeline.map((e, i) => (
            <li key={i}>
              <time>{formatDateTime(e.at)}</time> {e.action && <>{e.action} → </>}
              <strong>{e.stateLabel[lang.value]}</strong>
              {e.by && <span class="meta"> · {e.by}</span>}
              {e.note && <span class="meta"> · {e.note}</span>}
            </li>
          ))}
        </ol>
      </section>
    </article>
  );
}
