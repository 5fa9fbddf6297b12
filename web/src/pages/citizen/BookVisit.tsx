/**
 * Booking a remote visit: for whom (self or a managed family member), the service, a free slot,
 * the reason in plain words (ReasonPicker: mapped to the Circular 30 list's ICD-10 codes behind the
 * scenes) and the pre-visit questions, with what to do at once for a dangerous answer (DangerAdvice); then the booking code, or the reason a remote
 * visit is refused (see a doctor in person).
 */
import type { Questionnaire } from '@medplum/fhirtypes';
import { useEffect, useState } from 'preact/hooks';
import { apiGet, apiSend, ApiError } from '../../api.ts';
import { formatDateTime, t } from '../../i18n.ts';
import type { Icd } from '../../components/Icd10Picker.tsx';
import { dangerousBp, tz } from '../../i18n-citizen.ts';
import { DangerAdvice } from './DangerAdvice.tsx';
import { ReasonPicker } from './ReasonPicker.tsx';
import './citizen-extra.css';
import { useFamily } from '../../components/Family.tsx';
import type { Answers, Booked, BookingRequest, FreeSlot, ServiceInfo } from '../../../../src/visits/contract.ts';
import { QuestionnaireForm } from './QuestionnaireForm.tsx';
import { query } from './shared.ts';
import { SlotPicker } from './SlotPicker.tsx';
import { BookingAdvice } from '../../cds/BookingAdvice.tsx';

export function BookVisit({ ownId }: { ownId: string }) {
  const d = t();
  const family = useFamily();
  const [patientId, setPatientId] = useState(query().get('patient') ?? ownId);
  const [services, setServices] = useState<ServiceInfo[]>();
  const [serviceId, setServiceId] = useState<string>();
  const [slot, setSlot] = useState<FreeSlot>();
  const [icd, setIcd] = useState<Icd>();
  const [reason, setReason] = useState('');
  const [q, setQ] = useState<Questionnaire>();
  const [answers, setAnswers] = useState<Answers>({});
  const [error, setError] = useState<{ title: string; refused: boolean }>();
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState<Booked>();
  useEffect(() => {
    apiGet<ServiceInfo[]>('/api/visits/services').then(
      (s) => {
        setServices(s);
        if (s.length === 1) setServiceId(s[0].id);
      },
      (e) => setError({ title: (e as Error).message, refused: false }),
    );
    apiGet<Questionnaire>('/api/visits/questionnaire').then(setQ, () => undefined);
  }, []);
  if (done) {
    return (
      <section class="citizen">
        <h1>{d.cz.booked}</h1>
        <div class="card confirm" role="status">
          <dl class="facts">
            <dt>{d.cz.bookingCode}</dt>
            <dd>
              <strong>{done.bookingCode}</strong>
            </dd>
            <dt>{d.cz.when}</dt>
            <dd>{formatDateTime(done.start)}</dd>
            {slot && (
              <>
                <dt>{d.cz.doctor}</dt>
                <dd>{slot.practitioner.name}</dd>
              </>
            )}
          </dl>
          {!done.eligibility.confirmed && <p class="hint">{d.cz.needsConfirm}</p>}
          <a class="button primary" href={`/me/visits/${done.id}`}>
            {d.cz.goVisit}
          </a>
        </div>
      </section>
    );
  }
  const submit = async (e: Event) => {
    e.preventDefault();
    if (!slot || !icd) return setError({ title: !slot ? d.cz.pickTime : tz().reasonMissing, refused: false });
    setBusy(true);
    setError(undefined);
    try {
      const body: BookingRequest = { patientId, slotId: slot.id, icd10: icd, reason: reason.trim() || icd.display, answers };
      setDone(await apiSend<Booked>('POST', '/api/visits', body));
    } catch (err) {
      setError({ title: (err as Error).message, refused: err instanceof ApiError && err.status === 422 });
    } finally {
      setBusy(false);
    }
  };
  return (
    <section class="citizen">
      <h1>{d.cz.bookTitle}</h1>
      <form class="book" onSubmit={submit}>
        {family && family.length > 1 && (
          <label>
            {d.cz.forWhom}
            <select name="patient" value={patientId} onChange={(e) => setPatientId((e.target as HTMLSelectElement).value)}>
              {family.map((m) => (
                <option key={m.patientId} value={m.patientId}>
                  {m.name}
                  {m.self ? '' : ` (${m.relation})`}
                </option>
              ))}
            </select>
          </label>
        )}
        <fieldset>
          <legend>{d.cz.service}</legend>
          {!services ? (
            <p class="notice">{d.loading}</p>
          ) : (
            services.map((s) => (
              <label class="service" key={s.id}>
                <input
                  type="radio"
                  name="service"
                  checked={serviceId === s.id}
                  onChange={() => {
                    setServiceId(s.id);
                    setSlot(undefined);
                  }}
                />
                <span>
                  <strong>{s.name}</strong>
                  <small>
                    {s.organizationName} · {d.cz.price(s.price)} · {s.bhytCovered ? d.cz.bhytCovered : d.cz.selfPay}
                  </small>
                </span>
              </label>
            ))
          )}
        </fieldset>
        {serviceId && (
          <fieldset>
            <legend>{d.cz.pickTime}</legend>
            <SlotPicker serviceId={serviceId} value={slot?.id} onChange={setSlot} />
            {slot && (
              <p class="hint">
                {formatDateTime(slot.start)} · {slot.practitioner.name}
              </p>
            )}
          </fieldset>
        )}
        <ReasonPicker value={icd} onChange={setIcd} />
        <label>
          {d.cz.reasonText}
          <textarea name="reason" rows={3} maxLength={1000} value={reason} onInput={(e) => setReason((e.target as HTMLTextAreaElement).value)} />
        </label>
        {q && <QuestionnaireForm q={q} answers={answers} onChange={setAnswers} />}
        <DangerAdvice
          bp={dangerousBp(answers['home-bp']) ? String(answers['home-bp']).replace(/\s/g, '') : undefined}
          redFlags={answers['red-flags'] === true}
        />
        <BookingAdvice patientId={patientId} icd={icd} answers={answers} q={q} />
        {error && (
          <div class={error.refused ? 'card refusal' : 'error'} role="alert">
            {error.refused && <h2>{d.cz.ineligibleTitle}</h2>}
            <p>{error.title}</p>
            {error.refused && <p>{d.cz.inPerson}</p>}
          </div>
        )}
        <button type="submit" class="primary big" disabled={busy}>
          {busy ? d.cz.booking : d.cz.submitBooking}
        </button>
      </form>
    </section>
  );
}
