/**
 * One case: summary, attachments, meetings, timeline, and the actions this person may take now.
 * Request and response types come from the server's contract (type-only import).
 */
import type { Bundle, Practitioner, PractitionerRole } from '@medplum/fhirtypes';
import { useEffect, useState } from 'preact/hooks';
import type { AcknowledgeInput, CaseView, ConclusionInput, FollowUpInput, TriageInput, VerifyResult } from '../../../src/consult/contract.ts';
import { apiGet, apiSend, entries, fhirGet } from '../api.ts';
import { Icd10Picker, type Icd } from '../components/Icd10Picker.tsx';
import { displayName, genderLabel } from '../fhir-format.ts';
import { formatDate, formatDateTime, lang, t } from '../i18n.ts';
import { me } from '../session.ts';

const sectionText = (html?: string) =>
  (html ?? '')
    .replace(/<\/p><p>/g, '\n')
    .replace(/<[^>]+>/g, '')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');

export function ConsultCase({ id }: { id: string }) {
  const d = t();
  const [c, setC] = useState<CaseView>();
  const [error, setError] = useState<string>();
  const [message, setMessage] = useState<string>();
  const load = () => apiGet<CaseView>(`/api/consults/${id}`).then(setC, (e) => setError((e as Error).message));
  useEffect(() => {
    void load();
    const es = new EventSource('/api/events');
    es.addEventListener('consult.state', (e) => {
      if (JSON.parse((e as MessageEvent).data).caseId === id) void load();
    });
    return () => es.close();
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
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {message && (
        <p class="ok" role="status">
          {message}
        </p>
      )}

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

type Act = (fn: () => Promise<unknown>, done?: string) => Promise<void>;

function Triage({ c, act }: { c: CaseView; act: Act }) {
  const d = t();
  const [people, setPeople] = useState<{ id: string; name: string }[]>([]);
  const [reason, setReason] = useState('');
  useEffect(() => {
    fhirGet<Bundle>(`PractitionerRole?organization=Organization/${c.receivingOrganization?.id}&_include=PractitionerRole:practitioner&_count=100`).then((b) => {
      setPeople(entries<Practitioner>(b, 'Practitioner').map((p) => ({ id: p.id!, name: `${p.name?.[0]?.prefix?.[0] ?? ''} ${displayName(p.name)}`.trim() })));
      void entries<PractitionerRole>(b, 'PractitionerRole');
    });
  }, [c.receivingOrganization?.id]);
  return (
    <form class="card" onSubmit={(e) => e.preventDefault()}>
      <h2>{d.triageTitle}</h2>
      <fieldset>
        <legend>{d.assignSpecialists}</legend>
        {people.map((p) => (
          <label class="check" key={p.id}>
            <input type="checkbox" name="specialist" value={p.id} /> {p.name}
          </label>
        ))}
      </fieldset>
      <label>
        {d.reasonRequired}
        <input value={reason} onInput={(e) => setReason((e.target as HTMLInputElement).value)} maxLength={2000} />
      </label>
      <div class="row">
        <button
          type="button"
          class="primary"
          onClick={(e) => {
            const ids = [...(e.currentTarget.form!.querySelectorAll('input[name=specialist]:checked') as NodeListOf<HTMLInputElement>)].map((i) => i.value);
            void act(
              () => apiSend('POST', `/api/consults/${c.caseId}/triage`, { action: 'accept', specialistIds: ids, version: c.version } satisfies TriageInput),
              d.accept,
            );
          }}
        >
          {d.accept}
        </button>
        <button
          type="button"
          onClick={() =>
            act(() => apiSend('POST', `/api/consults/${c.caseId}/triage`, { action: 'request-info', reason, version: c.version } satisfies TriageInput))
          }
        >
          {d.requestInfo}
        </button>
        <button
          type="button"
          class="danger"
          onClick={() =>
            act(() => apiSend('POST', `/api/consults/${c.caseId}/triage`, { action: 'decline', reason, version: c.version } satisfies TriageInput))
          }
        >
          {d.decline}
        </button>
      </div>
    </form>
  );
}

function Conclusion({ c, act, canEdit, canSign, name }: { c: CaseView; act: Act; canEdit: boolean; canSign: boolean; name: (ref: string) => string }) {
  const d = t();
  const doc = c.conclusion;
  const text = (title: string) => sectionText(doc?.section?.find((s) => s.title === title)?.text?.div);
  const dx = doc?.extension?.find((e) => e.url.endsWith('consult-diagnosis'))?.valueCoding;
  const [icd, setIcd] = useState<Icd | undefined>(dx ? { code: dx.code!, display: dx.display ?? '' } : undefined);
  const [verify, setVerify] = useState<VerifyResult>();
  return (
    <section class="card">
      <h2>{d.conclusionTitle}</h2>
      {canEdit ? (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            const f = new FormData(e.target as HTMLFormElement);
            if (!icd) return;
            const body: ConclusionInput = {
              assessment: String(f.get('assessment')),
              diagnosis: { code: icd.code, display: icd.display },
              recommendations: String(f.get('recommendations')),
              transfer: f.get('transfer') === 'on',
              actionUrgency: String(f.get('actionUrgency')) as ConclusionInput['actionUrgency'],
            };
            void act(() => apiSend('PUT', `/api/consults/${c.caseId}/conclusion`, body), d.saveConclusion);
          }}
        >
          <label>
            {d.assessment}
            <textarea name="assessment" required rows={3} defaultValue={text('Nhận định')} />
          </label>
          <Icd10Picker label={d.diagnosis} name="diagnosis" value={icd} onChange={setIcd} />
          <label>
            {d.recommendations}
            <textarea name="recommendations" required rows={3} defaultValue={text('Khuyến cáo (xét nghiệm, điều trị)')} />
          </label>
          <label class="check">
            <input type="checkbox" name="transfer" /> {d.transfer}
          </label>
          <label>
            {d.actionUrgency}
            <select name="actionUrgency">
              {(['routine', 'urgent', 'emergency'] as const).map((u) => (
                <option value={u} key={u}>
                  {d.urgencies[u]}
                </option>
              ))}
            </select>
          </label>
          <button type="submit">{d.saveConclusion}</button>
        </form>
      ) : doc ? (
        <div>
          {doc.section?.map((s) => (
            <p key={s.title}>
              <strong>{s.title}:</strong> {sectionText(s.text?.div)}
            </p>
          ))}
        </div>
      ) : null}
      {doc && (
        <>
          <h3>{d.advisedBy}</h3>
          <ul>
            {(doc.attester ?? []).map((a) => (
              <li key={a.party?.reference}>
                {name(a.party?.reference ?? '')} · {formatDateTime(a.time)}
              </li>
            ))}
          </ul>
          <div class="row">
            {canSign && (
              <button type="button" class="primary" onClick={() => act(() => apiSend('POST', `/api/consults/${c.caseId}/conclusion/sign`), d.sign)}>
                {d.sign}
              </button>
            )}
            {(doc.attester ?? []).length > 0 && (
              <button type="button" onClick={() => apiGet<VerifyResult>(`/api/consults/${c.caseId}/conclusion/verify`).then(setVerify)}>
                {d.verifySignatures}
              </button>
            )}
          </div>
          {verify && <p class={verify.valid ? 'ok' : 'error'}>{verify.valid ? d.signaturesValid : d.signaturesInvalid}</p>}
        </>
      )}
    </section>
  );
}

function Acknowledge({ c, act }: { c: CaseView; act: Act }) {
  const d = t();
  const [decision, setDecision] = useState<AcknowledgeInput['decision']>('accept');
  return (
    <form
      class="card"
      onSubmit={(e) => {
        e.preventDefault();
        const f = new FormData(e.target as HTMLFormElement);
        const body: AcknowledgeInput = {
          decision,
          reason: String(f.get('reason') || '') || undefined,
          plan: String(f.get('plan') || '') || undefined,
          followUpDays: Number(f.get('days')),
        };
        void act(() => apiSend('POST', `/api/consults/${c.caseId}/acknowledge`, body), d.confirm);
      }}
    >
      <h2>{d.acknowledgeTitle}</h2>
      <label class="check">
        <input type="radio" name="decision" checked={decision === 'accept'} onChange={() => setDecision('accept')} /> {d.acceptAdvice}
      </label>
      <label class="check">
        <input type="radio" name="decision" checked={decision === 'different'} onChange={() => setDecision('different')} /> {d.differentDecision}
      </label>
      {decision === 'different' && (
        <label>
          {d.reasonRequired}
          <textarea name="reason" required minLength={5} rows={2} />
        </label>
      )}
      <label>
        {d.plan}
        <textarea name="plan" rows={2} />
      </label>
      <label>
        {d.followUpDays}
        <input name="days" type="number" min={1} max={365} defaultValue={14} />
      </label>
      <button type="submit" class="primary">
        {d.confirm}
      </button>
    </form>
  );
}

function FollowUp({ c, act }: { c: CaseView; act: Act }) {
  const d = t();
  return (
    <form
      class="card"
      onSubmit={(e) => {
        e.preventDefault();
        const f = new FormData(e.target as HTMLFormElement);
        const body: FollowUpInput = { outcome: String(f.get('outcome')) as FollowUpInput['outcome'], note: String(f.get('note') || '') || undefined };
        void act(() => apiSend('POST', `/api/consults/${c.caseId}/follow-up`, body), d.record);
      }}
    >
      <h2>{d.followUpTitle}</h2>
      <p class="meta">{formatDate(c.followUpDue)}</p>
      <label>
        {d.followUpTitle}
        <select name="outcome">
          {Object.entries(d.outcomes).map(([k, v]) => (
            <option value={k} key={k}>
              {v}
            </option>
          ))}
        </select>
      </label>
      <label>
        {d.plan}
        <textarea name="note" rows={2} />
      </label>
      <button type="submit" class="primary">
        {d.record}
      </button>
    </form>
  );
}
