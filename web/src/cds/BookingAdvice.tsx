/**
 * appointment-book for the citizen: while they book a remote visit, the approved advice services
 * (e.g. the bundled remote-visit advice: the Circular 30 list and the pre-visit answers) are asked
 * about the visit being booked, and their cards are shown in plain words next to the confirm
 * button — advice to read, never a gate: booking goes on whatever the service says or if it fails.
 * Rules: only the reason (ICD-10 code) and the yes/no and multiple-choice answers are sent
 * (free-text answers stay on the page); asked again only when those change, after a pause; the
 * server audits each call and puts it in the citizen's access log.
 */
import type { Questionnaire } from '@medplum/fhirtypes';
import { useEffect, useState } from 'preact/hooks';
import type { BookingAdviceRequest, HookResult } from '../../../src/cds/contract.ts';
import { apiSend } from '../api.ts';
import { tcds } from '../i18n-cds.ts';
import { me } from '../session.ts';
import './cds.css';

const PAUSE_MS = 400;

export function BookingAdvice({
  patientId,
  icd,
  answers,
  q,
}: {
  patientId: string;
  icd?: { code: string; display?: string };
  answers: Record<string, string | boolean>;
  q?: Questionnaire;
}) {
  const l = tcds();
  const [result, setResult] = useState<{ key: string; r?: HookResult }>();
  const structured = new Set((q?.item ?? []).filter((i) => i.type === 'boolean' || i.type === 'choice').map((i) => i.linkId));
  const sent = Object.fromEntries(
    Object.entries(answers).filter(([k, v]) => (typeof v === 'boolean' || structured.has(k)) && v !== '' && String(v).length <= 100),
  );
  const citizen = me.value?.role === 'citizen';
  const key = icd ? JSON.stringify([patientId, icd.code, sent]) : '';
  useEffect(() => {
    if (!key || !citizen || !icd) return;
    let live = true;
    const timer = setTimeout(() => {
      const display = icd.display?.trim().slice(0, 300);
      const body: BookingAdviceRequest = { patientId, proposed: { icd10: { code: icd.code, ...(display ? { display } : {}) }, answers: sent } };
      void apiSend<HookResult>('POST', '/api/cds/booking-advice', body).then(
        (r) => live && setResult({ key, r }),
        () => live && setResult({ key }),
      );
    }, PAUSE_MS);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [key, citizen]);
  if (!key || !citizen) return null;
  const current = result?.key === key ? result : undefined;
  if (current && !current.r?.cards.length) return null;
  return (
    <section class="card cds-advice" aria-labelledby="cds-advice-title" aria-live="polite">
      <h2 id="cds-advice-title">{l.adviceTitle}</h2>
      {!current ? (
        <p class="notice">{l.adviceChecking}</p>
      ) : (
        <>
          <ul class="plain">
            {current.r!.cards.map((c) => (
              <li key={c.id} class={`cds-card ${c.indicator}`} data-indicator={c.indicator}>
                <p>
                  <strong>{c.summary}</strong>
                </p>
                {c.detail && <p class="detail">{c.detail}</p>}
                <p class="meta">{l.adviceFrom(c.source.label, c.service.name)}</p>
              </li>
            ))}
          </ul>
          <p class="hint">{l.adviceHint}</p>
        </>
      )}
    </section>
  );
}
