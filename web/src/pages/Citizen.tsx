/**
 * The citizen app: my health record (and my family's), booking a remote visit, my visits with the
 * waiting room, the visit's result and prescription. Mobile first: one column, large targets.
 * Rules: request bodies and answers are the server's contract types (src/visits/contract.ts,
 * imported as types only: no validation code in the bundle).
 */
import type { Questionnaire } from '@medplum/fhirtypes';
import { useEffect, useState } from 'preact/hooks';
import { apiGet, apiSend, ApiError } from '../api.ts';
import { formatDate, formatDateTime, lang, t } from '../i18n.ts';
import { navigate, path } from '../router.ts';
import { Icd10Picker, type Icd } from '../components/Icd10Picker.tsx';
import { VitalsChart, type Series } from '../components/VitalsChart.tsx';
import { MemberSwitch, useFamily } from '../components/Family.tsx';
import type {
  Answers,
  Booked,
  BookingRequest,
  CancelRequest,
  FreeSlot,
  HealthRecord,
  MyVisit,
  PrescriptionCheck,
  RescheduleRequest,
  RoomOpened,
  ServiceInfo,
  VisitView,
} from '../../../src/visits/contract.ts';

const query = () => new URLSearchParams(path.value.split('?')[1] ?? '');

/** My health record: a member switcher, facts, quick actions, then what matters most first. */
export function MyRecord({ ownId }: { ownId: string }) {
  const d = t();
  const family = useFamily();
  const patientId = query().get('patient') ?? ownId;
  const [rec, setRec] = useState<HealthRecord>();
  const [error, setError] = useState<string>();
  useEffect(() => {
    setRec(undefined);
    setError(undefined);
    apiGet<HealthRecord>(`/api/me/record?patientId=${encodeURIComponent(patientId)}`).then(setRec, (e) => setError((e as Error).message));
  }, [patientId]);
  if (error)
    return (
      <p class="error" role="alert">
        {error}
      </p>
    );
  if (!rec) return <p class="notice">{d.loading}</p>;
  const q = `patientId=${encodeURIComponent(patientId)}`;
  const bp = rec.vitals.filter((v) => v.code === '85354-9' && v.values.length === 2);
  const hr = rec.vitals.filter((v) => v.code === '8867-4');
  const bpSeries: Series[] = [
    { label: d.cz.systolic, color: '#b3261e', points: bp.map((v) => ({ t: Date.parse(v.t), v: v.values[0] })) },
    { label: d.cz.diastolic, color: '#1f6f5c', points: bp.map((v) => ({ t: Date.parse(v.t), v: v.values[1] })) },
  ];
  return (
    <section class="citizen">
      <MemberSwitch family={family} current={patientId} to={(id) => (id === ownId ? '/me' : `/me?patient=${id}`)} />
      <h1>
        {rec.patient.name}
        <small>{d.cz.recordTitle}</small>
      </h1>
      <dl class="facts card">
        {rec.patient.birthDate && (
          <>
            <dt>{d.birthDate}</dt>
            <dd>{formatDate(rec.patient.birthDate)}</dd>
          </>
        )}
        {rec.patient.cccd && (
          <>
            <dt>{d.cccd}</dt>
            <dd>{rec.patient.cccd}</dd>
          </>
        )}
        {rec.patient.bhytCard && (
          <>
            <dt>{d.bhyt}</dt>
            <dd>{rec.patient.bhytCard}</dd>
          </>
        )}
        {rec.patient.address && (
          <>
            <dt>{d.address}</dt>
            <dd>{rec.patient.address}</dd>
          </>
        )}
      </dl>
      <div class="actions">
        <a class="button primary" href={`/me/book?patient=${encodeURIComponent(patientId)}`}>
          {d.cz.bookVisit}
        </a>
        <a class="button" href={`/api/me/record/pdf?${q}`} download>
          {d.cz.downloadPdf}
        </a>
        <a class="button" href={`/api/me/record/fhir?${q}`} download>
          {d.cz.downloadFhir}
        </a>
      </div>
      {rec.allergies.length > 0 && (
        <section class="card alert-card">
          <h2>{d.cz.allergies}</h2>
          <ul>
            {rec.allergies.map((a, i) => (
              <li key={i}>
                <strong>{a.substance}</strong>
                {a.reaction ? `: ${a.reaction}` : ''}
              </li>
            ))}
          </ul>
        </section>
      )}
      <section class="card">
        <h2>{d.cz.conditions}</h2>
        {rec.conditions.length ? (
          <ul class="conditions">
            {dedupe(rec.conditions.map((c) => `${c.code ? `${c.code} ` : ''}${c.display}`)).map((c) => (
              <li key={c}>{c}</li>
            ))}
          </ul>
        ) : (
          <p class="notice">{d.cz.none}</p>
        )}
      </section>
      <section class="card">
        <h2>{d.cz.medications}</h2>
        {rec.medications.length ? (
          <ul>
            {rec.medications.map((m, i) => (
              <li key={i}>
                <strong>{m.name}</strong>
                {m.dosage ? ` — ${m.dosage}` : ''} <span class="meta">{formatDate(m.since)}</span>
              </li>
            ))}
          </ul>
        ) : (
          <p class="notice">{d.cz.none}</p>
        )}
      </section>
      {(bp.length > 0 || hr.length > 0) && (
        <section class="card">
          <h2>{d.cz.vitals}</h2>
          {bp.length > 0 && (
            <>
              <h3>{d.cz.bloodPressure} (mmHg)</h3>
              <div class="chart">
                <VitalsChart series={bpSeries} unit="mmHg" />
              </div>
            </>
          )}
          {hr.length > 0 && (
            <>
              <h3>{d.cz.heartRate} (/phút)</h3>
              <div class="chart">
                <VitalsChart
                  series={[{ label: d.cz.heartRate, color: '#6b4fa0', points: hr.map((v) => ({ t: Date.parse(v.t), v: v.values[0] })) }]}
                  unit="/min"
                />
              </div>
            </>
          )}
        </section>
      )}
      <section class="card">
        <h2>{d.cz.documents}</h2>
        {rec.documents.length ? (
          <ul class="docs">
            {rec.documents.map((doc) => (
              <li key={doc.id}>
                {doc.link ? (
                  <a href={doc.link} download>
                    {doc.title}
                  </a>
                ) : (
                  <span>{doc.title}</span>
                )}{' '}
                <span class="meta">{formatDate(doc.date)}</span>
              </li>
            ))}
          </ul>
        ) : (
          <p class="notice">{d.cz.none}</p>
        )}
      </section>
      <section class="card">
        <h2>{d.cz.immunizations}</h2>
        {rec.immunizations.length ? (
          <ul>
            {rec.immunizations.map((i, k) => (
              <li key={k}>
                {i.vaccine} <span class="meta">{formatDate(i.date)}</span>
              </li>
            ))}
          </ul>
        ) : (
          <p class="notice">{d.cz.none}</p>
        )}
      </section>
      <section class="card">
        <h2>{d.cz.timeline}</h2>
        <ol class="timeline">
          {rec.timeline.map((item) => (
            <li key={item.ref} class={`tl-${item.kind}`}>
              <time>{formatDate(item.date)}</time>
              <span class="kind">{d.cz.kinds[item.kind] ?? item.kind}</span>
              <strong>{item.title}</strong>
              {item.detail && <span> — {item.detail}</span>}
              {item.by && <span class="meta"> · {item.by}</span>}
            </li>
          ))}
        </ol>
      </section>
    </section>
  );
}

function dedupe(xs: string[]): string[] {
  return [...new Set(xs)];
}

const dayKey = (iso: string) => new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Ho_Chi_Minh' }).format(new Date(iso));
const dayLabel = (iso: string) =>
  new Intl.DateTimeFormat('vi-VN', { timeZone: 'Asia/Ho_Chi_Minh', weekday: 'short', day: '2-digit', month: '2-digit' }).format(new Date(iso));
const timeLabel = (iso: string) => new Intl.DateTimeFormat('vi-VN', { timeZone: 'Asia/Ho_Chi_Minh', hour: '2-digit', minute: '2-digit' }).format(new Date(iso));

/** Free slots of a service grouped by day; a day, then a time. */
export function SlotPicker({ serviceId, value, onChange }: { serviceId: string; value?: string; onChange: (slot: FreeSlot) => void }) {
  const d = t();
  const [slots, setSlots] = useState<FreeSlot[]>();
  const [day, setDay] = useState<string>();
  useEffect(() => {
    setSlots(undefined);
    apiGet<FreeSlot[]>(`/api/visits/services/${serviceId}/slots`).then(
      (s) => {
        setSlots(s);
        setDay(s[0] ? dayKey(s[0].start) : undefined);
      },
      () => setSlots([]),
    );
  }, [serviceId]);
  if (!slots) return <p class="notice">{d.loading}</p>;
  if (!slots.length) return <p class="notice">{d.cz.noSlots}</p>;
  const days = dedupe(slots.map((s) => dayKey(s.start)));
  return (
    <div class="slots">
      <div class="days" role="tablist">
        {days.map((k) => {
          const first = slots.find((s) => dayKey(s.start) === k)!;
          return (
            <button type="button" role="tab" key={k} aria-selected={k === day} class={k === day ? 'tab active' : 'tab'} onClick={() => setDay(k)}>
              {dayLabel(first.start)}
            </button>
          );
        })}
      </div>
      <div class="times">
        {slots
          .filter((s) => dayKey(s.start) === day)
          .map((s) => (
            <button
              type="button"
              key={s.id}
              class={s.id === value ? 'time active' : 'time'}
              aria-pressed={s.id === value}
              onClick={() => onChange(s)}
              title={s.practitioner.name}
            >
              {timeLabel(s.start)}
            </button>
          ))}
      </div>
    </div>
  );
}

/** Questions are written "Vietnamese (English)": show the part in the reader's language. */
function localText(text: string): string {
  const m = /^(.*) \(([^()]*)\)$/.exec(text);
  if (!m) return text;
  return lang.value === 'en' ? m[2].charAt(0).toUpperCase() + m[2].slice(1) : m[1];
}

function QuestionnaireForm({ q, answers, onChange }: { q: Questionnaire; answers: Answers; onChange: (a: Answers) => void }) {
  const d = t();
  return (
    <fieldset class="questions">
      <legend>{d.cz.questions}</legend>
      {(q.item ?? []).map((item) => {
        const label = localText(item.text ?? item.linkId);
        if (item.type === 'boolean') {
          return (
            <div class="question" key={item.linkId} role="radiogroup" aria-label={label}>
              <p>{label}</p>
              <label class="check">
                <input type="radio" name={item.linkId} checked={answers[item.linkId] === true} onChange={() => onChange({ ...answers, [item.linkId]: true })} />{' '}
                {d.cz.yes}
              </label>
              <label class="check">
                <input
                  type="radio"
                  name={item.linkId}
                  checked={answers[item.linkId] === false}
                  onChange={() => onChange({ ...answers, [item.linkId]: false })}
                />{' '}
                {d.cz.no}
              </label>
            </div>
          );
        }
        if (item.type === 'choice') {
          return (
            <div class="question" key={item.linkId} role="radiogroup" aria-label={label}>
              <p>{label}</p>
              {(item.answerOption ?? []).map((o) => (
                <label class="check" key={o.valueCoding?.code}>
                  <input
                    type="radio"
                    name={item.linkId}
                    checked={answers[item.linkId] === o.valueCoding?.code}
                    onChange={() => onChange({ ...answers, [item.linkId]: o.valueCoding!.code! })}
                  />{' '}
                  {o.valueCoding?.display}
                </label>
              ))}
            </div>
          );
        }
        return (
          <label class="question" key={item.linkId}>
            {label}
            <input
              name={item.linkId}
              value={String(answers[item.linkId] ?? '')}
              onInput={(e) => onChange({ ...answers, [item.linkId]: (e.target as HTMLInputElement).value })}
            />
          </label>
        );
      })}
    </fieldset>
  );
}

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
    if (!slot || !icd) return setError({ title: !slot ? d.cz.pickTime : d.cz.reason, refused: false });
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
        <Icd10Picker label={d.cz.reason} name="icd10" value={icd} onChange={setIcd} />
        <label>
          {d.cz.reasonText}
          <textarea name="reason" rows={3} maxLength={1000} value={reason} onInput={(e) => setReason((e.target as HTMLTextAreaElement).value)} />
        </label>
        {q && <QuestionnaireForm q={q} answers={answers} onChange={setAnswers} />}
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

export function MyVisits() {
  const d = t();
  const [visits, setVisits] = useState<MyVisit[]>();
  const [error, setError] = useState<string>();
  useEffect(() => void apiGet<MyVisit[]>('/api/me/visits').then(setVisits, (e) => setError((e as Error).message)), []);
  if (error)
    return (
      <p class="error" role="alert">
        {error}
      </p>
    );
  if (!visits) return <p class="notice">{d.loading}</p>;
  const now = new Date().toISOString();
  const upcoming = visits.filter((v) => v.status === 'booked' && v.end >= now).sort((a, b) => a.start.localeCompare(b.start));
  const rest = visits.filter((v) => !upcoming.includes(v));
  const item = (v: MyVisit) => (
    <li key={v.id}>
      <a class="visit-card" href={`/me/visits/${v.id}`}>
        <span class={`badge s-${v.status}`}>{d.cz.status[v.status] ?? v.status}</span>
        <strong>{formatDateTime(v.start)}</strong>
        <span>{v.service}</span>
        <span class="meta">
          {v.for && !v.for.self ? `${v.for.name} · ` : ''}
          {v.practitioner.name}
        </span>
      </a>
    </li>
  );
  return (
    <section class="citizen">
      <h1>{d.cz.myVisits}</h1>
      <a class="button primary" href="/me/book">
        {d.cz.bookVisit}
      </a>
      {!visits.length && <p class="notice">{d.cz.noVisits}</p>}
      <ul class="visits">{upcoming.map(item)}</ul>
      {rest.length > 0 && <ul class="visits past">{rest.map(item)}</ul>}
    </section>
  );
}

/** The visit's result as the citizen sees it (also used on the clinician's page after the visit). */
export function VisitResult({ v }: { v: VisitView }) {
  const d = t();
  if (!v.note) return null;
  return (
    <section class="card result">
      <h2>{d.cz.note}</h2>
      {v.diagnosis?.length ? (
        <p>
          <strong>{d.cz.diagnosis}:</strong> {v.diagnosis.map((x) => `${x.code} ${x.display}`).join('; ')}
        </p>
      ) : null}
      {v.note.sections.map((s) => (
        <div key={s.title} class="note-section">
          <h3>{s.title}</h3>
          {s.text.split('\n').map((l, i) => (
            <p key={i}>{l}</p>
          ))}
        </div>
      ))}
      {v.reported?.length ? (
        <p>
          <strong>{d.cz.reported}:</strong> {v.reported.map((o) => `${o.text} ${o.value}`).join('; ')}
        </p>
      ) : null}
      {v.prescription && (
        <div class="rx">
          <h3>
            {d.cz.prescription} <code>{v.prescription.code}</code>
          </h3>
          <ol>
            {v.prescription.items.map((it, i) => (
              <li key={i}>
                <strong>{it.name}</strong> — {it.quantity} {it.unit}
                <br />
                {it.dosage}
                {it.days ? ` (${it.days} ngày)` : ''}
              </li>
            ))}
          </ol>
          <a class="button primary" href={`/api/prescriptions/${v.prescription.code}/pdf`} download>
            {d.cz.downloadRx}
          </a>
        </div>
      )}
      {v.charge && (
        <p class="meta">
          {d.cz.charge}: {d.cz.price(v.charge.price)} · {v.charge.payer === 'bhyt' ? d.cz.bhytCovered : d.cz.selfPay}
        </p>
      )}
    </section>
  );
}

export function CitizenVisit({ id }: { id: string }) {
  const d = t();
  const [v, setV] = useState<VisitView>();
  const [error, setError] = useState<string>();
  const [mode, setMode] = useState<'idle' | 'cancel' | 'move'>('idle');
  const [cancelReason, setCancelReason] = useState('');
  const load = () => apiGet<VisitView>(`/api/visits/${id}`).then(setV, (e) => setError((e as Error).message));
  useEffect(() => void load(), [id]);
  const act = async (fn: () => Promise<unknown>) => {
    setError(undefined);
    try {
      await fn();
      setMode('idle');
      await load();
    } catch (err) {
      setError((err as Error).message);
    }
  };
  if (!v)
    return error ? (
      <p class="error" role="alert">
        {error}
      </p>
    ) : (
      <p class="notice">{d.loading}</p>
    );
  return (
    <section class="citizen">
      <a class="back" href="/me/visits">
        ← {d.cz.myVisits}
      </a>
      <h1>
        {v.service}
        <small>
          <span class={`badge s-${v.status}`}>{d.cz.status[v.status] ?? v.status}</span>
        </small>
      </h1>
      <dl class="facts card">
        <dt>{d.cz.when}</dt>
        <dd>{formatDateTime(v.start)}</dd>
        <dt>{d.name}</dt>
        <dd>{v.patient.name}</dd>
        <dt>{d.cz.doctor}</dt>
        <dd>{v.practitioner.name}</dd>
        {v.bookingCode && (
          <>
            <dt>{d.cz.bookingCode}</dt>
            <dd>{v.bookingCode}</dd>
          </>
        )}
        {v.reason && (
          <>
            <dt>{d.cz.reason}</dt>
            <dd>{v.reason}</dd>
          </>
        )}
        {v.cancelReason && (
          <>
            <dt>{d.cz.cancelReason}</dt>
            <dd>{v.cancelReason}</dd>
          </>
        )}
      </dl>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {v.status === 'booked' && (
        <div class="actions">
          <button
            type="button"
            class="primary big"
            onClick={() =>
              act(async () => {
                const r = await apiSend<RoomOpened>('POST', `/api/visits/${id}/room`);
                navigate(r.url);
              })
            }
          >
            {d.cz.enterRoom}
          </button>
          <button type="button" onClick={() => setMode(mode === 'move' ? 'idle' : 'move')}>
            {d.cz.reschedule}
          </button>
          <button type="button" onClick={() => setMode(mode === 'cancel' ? 'idle' : 'cancel')}>
            {d.cz.cancel}
          </button>
        </div>
      )}
      {mode === 'cancel' && (
        <form
          class="card"
          onSubmit={(e) => {
            e.preventDefault();
            void act(() => apiSend('POST', `/api/visits/${id}/cancel`, { reason: cancelReason } satisfies CancelRequest));
          }}
        >
          <label>
            {d.cz.cancelReason}
            <input required maxLength={500} value={cancelReason} onInput={(e) => setCancelReason((e.target as HTMLInputElement).value)} />
          </label>
          <button type="submit" class="danger">
            {d.cz.confirmCancel}
          </button>
        </form>
      )}
      {mode === 'move' && (
        <Reschedule visit={v} onPick={(slotId) => act(() => apiSend('POST', `/api/visits/${id}/reschedule`, { slotId } satisfies RescheduleRequest))} />
      )}
      <VisitResult v={v} />
    </section>
  );
}

function Reschedule({ visit, onPick }: { visit: VisitView; onPick: (slotId: string) => void }) {
  const d = t();
  const [services, setServices] = useState<ServiceInfo[]>();
  useEffect(() => void apiGet<ServiceInfo[]>('/api/visits/services').then(setServices, () => setServices([])), []);
  const service = services?.find((s) => s.name === visit.service);
  if (!services) return <p class="notice">{d.loading}</p>;
  if (!service) return <p class="notice">{d.cz.noSlots}</p>;
  return (
    <div class="card">
      <h2>{d.cz.pickTime}</h2>
      <SlotPicker serviceId={service.id} onChange={(s) => onPick(s.id)} />
    </div>
  );
}

/** What a pharmacy sees after scanning a prescription's QR code: authentic or not, never whose. */
export function RxCheck({ code }: { code: string }) {
  const d = t();
  const [r, setR] = useState<PrescriptionCheck>();
  const [error, setError] = useState<string>();
  useEffect(
    () => void apiGet<PrescriptionCheck>(`/api/prescriptions/${encodeURIComponent(code)}/verify`).then(setR, (e) => setError((e as Error).message)),
    [code],
  );
  return (
    <section class="citizen">
      <h1>
        {d.cz.rxCheck}{' '}
        <small>
          <code>{code}</code>
        </small>
      </h1>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {r && (
        <div class="card">
          <p class={r.valid ? 'ok' : 'error'}>{r.valid ? d.cz.rxValid : d.cz.rxInvalid}</p>
          <dl class="facts">
            <dt>{d.cz.rxIssued}</dt>
            <dd>{formatDateTime(r.issuedAt)}</dd>
            <dt>{d.cz.rxItems}</dt>
            <dd>{r.items}</dd>
          </dl>
        </div>
      )}
    </section>
  );
}
