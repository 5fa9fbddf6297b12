/**
 * The clinician's side of remote examinations: the day's queue (who is waiting in the room), and
 * one visit: pre-visit answers, the room, the visit note with diagnosis, reported vitals,
 * e-prescription and billing.
 * Rules: request bodies and answers are the server's contract types (src/visits/contract.ts,
 * imported as types only).
 */
import { PrescriptionKindFields, prescriptionKindOf } from './formats/PrescriptionKind.tsx';
import { tf } from '../i18n-formats.ts';
import { Fragment } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { apiGet, apiSend } from '../api.ts';
import { formatDate, formatDateTime, t, vnDay } from '../i18n.ts';
import { Icd10Picker, type Icd } from '../components/Icd10Picker.tsx';
import { VisitResult } from './citizen/VisitResult.tsx';
import type { Completed, CompleteRequest, PrescribingCheck, PrescribingIssue, QueueItem, RoomOpened, VisitView } from '../../../src/visits/contract.ts';
import { DrugPicker } from '../components/DrugPicker.tsx';
import { PrescribingWarnings } from '../components/PrescribingWarnings.tsx';
import { useEncounterDischarge, useOrderSelectCards } from '../cds/hooks.ts';
import { CdsCards } from '../cds/CdsCards.tsx';
import { OrderSignCards, useOrderSignGate } from '../cds/signGate.tsx';
import { tcds } from '../i18n-cds.ts';
import './chart/chart.css';
import { tc } from '../i18n-clinic.ts';

const today = () => vnDay(Date.now());

export function VisitQueue() {
  const d = t();
  const c = tc();
  const [day, setDay] = useState(today());
  // Today and the coming days by default: a clinician plans the week, not only today.
  const [days, setDays] = useState(7);
  const [visits, setVisits] = useState<QueueItem[]>();
  const [error, setError] = useState<string>();
  useEffect(() => {
    let stop = false;
    const load = () =>
      apiGet<QueueItem[]>(`/api/visits/queue?from=${day}&days=${days}`).then(
        (v) => !stop && setVisits(v),
        (e) => !stop && setError((e as Error).message),
      );
    void load();
    const timer = setInterval(load, 5000); // who is waiting changes by the minute
    return () => {
      stop = true;
      clearInterval(timer);
    };
  }, [day, days]);
  const byDay = new Map<string, QueueItem[]>();
  for (const v of visits ?? []) byDay.set(vnDay(v.start), [...(byDay.get(vnDay(v.start)) ?? []), v]);
  return (
    <section>
      <h1>{d.cz.queueTitle}</h1>
      <div class="row queue-range">
        <label class="inline">
          {c.fromDay} <input type="date" value={day} onChange={(e) => setDay((e.target as HTMLInputElement).value || today())} />
        </label>
        <label class="inline">
          {c.rangeLabel}{' '}
          <select value={String(days)} onChange={(e) => setDays(Number((e.target as HTMLSelectElement).value))}>
            {[1, 3, 7, 14, 31].map((n) => (
              <option key={n} value={n}>
                {c.rangeDays(n)}
              </option>
            ))}
          </select>
        </label>
      </div>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {!visits ? (
        <p class="notice">{d.loading}</p>
      ) : !visits.length ? (
        <p class="notice">{c.noVisitsInRange}</p>
      ) : (
        [...byDay].map(([date, list]) => (
          <Fragment key={date}>
            <h2 class="queue-day">
              {date === today() ? `${c.today} · ` : ''}
              {formatDate(date)} <small>({list.length})</small>
            </h2>
            <ul class="visits">
              {list.map((v) => (
                <li key={v.id}>
                  <a class={`visit-card${v.waiting ? ' waiting' : ''}`} href={`/visits/${v.id}`}>
                    <span class={`badge s-${v.status}`}>{d.cz.status[v.status] ?? v.status}</span>
                    <strong>
                      {formatDateTime(v.start)} · {v.patient.name}
                    </strong>
                    <span>
                      {v.icd10} {v.reason}
                    </span>
                    {v.waiting > 0 && <span class="waiting-badge">{d.cz.waiting(v.waiting)}</span>}
                  </a>
                </li>
              ))}
            </ul>
          </Fragment>
        ))
      )}
    </section>
  );
}

interface Drug {
  name: string;
  /** WHO ATC code, when picked from the drug dictionary. */
  atc?: string;
  drugCode: string;
  quantity: string;
  unit: string;
  dosage: string;
  days: string;
}
const emptyDrug = (): Drug => ({ name: '', drugCode: '', quantity: '', unit: 'viên', dosage: '', days: '' });

export function VisitWorkspace({ id }: { id: string }) {
  const d = t();
  const [v, setV] = useState<VisitView>();
  const [error, setError] = useState<string>();
  const [icd, setIcd] = useState<Icd>();
  const [drugs, setDrugs] = useState<Drug[]>([emptyDrug()]);
  const [busy, setBusy] = useState(false);
  // Prescribing warnings shown for the items as they are now, and the reasons given to override them.
  const [issues, setIssues] = useState<PrescribingIssue[]>([]);
  const [reasons, setReasons] = useState<Record<string, string>>({});
  // Decision support while prescribing (order-select): cards beside the prescription, never blocking it.
  const rxCards = useOrderSelectCards(v?.patient.id, drugs);
  // ... when signing (order-sign: a critical card needs accept or a reason) and once signed (encounter-discharge).
  const signGate = useOrderSignGate();
  const [discharge, fireDischarge] = useEncounterDischarge();
  const load = () =>
    apiGet<VisitView>(`/api/visits/${id}`).then(
      (x) => {
        setV(x);
        if (x.icd10 && !icd) setIcd({ code: x.icd10, display: x.icd10Display ?? '' });
      },
      (e) => setError((e as Error).message),
    );
  useEffect(() => void load(), [id]);
  if (!v)
    return error ? (
      <p class="error" role="alert">
        {error}
      </p>
    ) : (
      <p class="notice">{d.loading}</p>
    );
  const [sys, dia] = (v.homeBp ?? '').split('/').map((x) => x.trim());
  const submit = async (e: Event) => {
    e.preventDefault();
    const f = new FormData(e.target as HTMLFormElement);
    const num = (k: string) => (String(f.get(k) ?? '').trim() ? Number(f.get(k)) : undefined);
    const items = drugs
      .filter((x) => x.name.trim())
      .map((x) => ({
        name: x.name.trim(),
        ...(x.atc ? { atc: x.atc } : {}),
        ...(x.drugCode.trim() ? { drugCode: x.drugCode.trim().toUpperCase() } : {}),
        quantity: Number(x.quantity),
        unit: x.unit.trim(),
        dosage: x.dosage.trim(),
        ...(x.days.trim() ? { days: Number(x.days) } : {}),
      }));
    const reported = { systolic: num('systolic'), diastolic: num('diastolic'), heartRate: num('heartRate') };
    if (!icd) return setError(d.cz.diagnosis);
    const rxKind = prescriptionKindOf(f);
    if (items.length && rxKind.missing) return setError(tf().rxConfirmNeeded);
    const body: CompleteRequest = {
      findings: String(f.get('findings') ?? ''),
      assessment: String(f.get('assessment') ?? ''),
      diagnosis: icd,
      instructions: String(f.get('instructions') ?? ''),
      ...(num('followUpDays') ? { followUpDays: num('followUpDays') } : {}),
      reported: Object.fromEntries(Object.entries(reported).filter(([, x]) => x !== undefined)),
      ...(items.length
        ? {
            prescription: {
              items,
              kind: rxKind.kind,
              ...(rxKind.controlled ? { controlled: rxKind.controlled } : {}),
              ...(String(f.get('advice') ?? '').trim() ? { advice: String(f.get('advice')).trim() } : {}),
            },
          }
        : {}),
      useInsurance: f.get('useInsurance') === 'on',
    };
    setBusy(true);
    setError(undefined);
    try {
      if (items.length && !(await signGate.check(v.patient.id, items))) {
        document.getElementById('cds-sign')?.scrollIntoView({ block: 'center' });
        return;
      }
      // Safety first: allergies and duplicate medicines; each warning needs a reason before saving.
      if (items.length) {
        const check = await apiSend<PrescribingCheck>('POST', `/api/visits/${id}/prescription-check`, {
          items: items.map((x) => ({ name: x.name, ...(x.atc ? { atc: x.atc } : {}) })),
        });
        setIssues(check.issues);
        const missing = check.issues.filter((i) => (reasons[i.key] ?? '').trim().length < 5);
        if (missing.length) {
          setBusy(false);
          document.getElementById('rx-warnings')?.scrollIntoView({ block: 'center' });
          return;
        }
        body.acknowledgements = check.issues.map((i) => ({ key: i.key, reason: reasons[i.key].trim() }));
      }
      const done = await apiSend<Completed>('POST', `/api/visits/${id}/complete`, body);
      fireDischarge(v.patient.id, done.encounterId);
      await load();
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  const setDrug = (i: number, k: keyof Drug, value: string) => setDrugs(drugs.map((x, j) => (j === i ? { ...x, [k]: value } : x)));
  return (
    <section>
      <a class="back" href="/visits">
        ← {d.cz.queueTitle}
      </a>
      <h1>
        {v.patient.name}
        <small>
          {formatDateTime(v.start)} · {v.service} · <span class={`badge s-${v.status}`}>{d.cz.status[v.status] ?? v.status}</span>
        </small>
      </h1>
      <dl class="facts card">
        {v.patient.birthDate && (
          <>
            <dt>{d.birthDate}</dt>
            <dd>{formatDate(v.patient.birthDate)}</dd>
          </>
        )}
        {v.patient.bhytCard && (
          <>
            <dt>{d.bhyt}</dt>
            <dd>{v.patient.bhytCard}</dd>
          </>
        )}
        <dt>{d.cz.reason}</dt>
        <dd>
          {v.icd10} {v.icd10Display} — {v.reason}
        </dd>
        {v.eligibility && (
          <>
            <dt>{tc().eligibilityTitle}</dt>
            <dd class="meta">{v.eligibility}</dd>
          </>
        )}
      </dl>
      <div class="actions">
        <a class="button" href={`/patients/${v.patient.id}`} target="_blank" rel="noopener">
          {d.cz.openChart}
        </a>
        {v.status === 'booked' && (
          <button
            type="button"
            class="primary"
            onClick={async () => {
              try {
                const r = await apiSend<RoomOpened>('POST', `/api/visits/${id}/room`);
                window.open(r.url, '_blank', 'noopener');
              } catch (err) {
                setError((err as Error).message);
              }
            }}
          >
            {d.cz.enterRoomDoctor}
          </button>
        )}
      </div>
      <section class="card">
        <h2>{d.cz.answers}</h2>
        <dl class="answers">
          {v.answers.map((a) => (
            <Fragment key={a.linkId}>
              <dt>{a.text?.split(' (')[0]}</dt>
              <dd>{a.answer === true ? d.cz.yes : a.answer === false ? d.cz.no : a.answer}</dd>
            </Fragment>
          ))}
        </dl>
      </section>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {v.status === 'booked' ? (
        <form class="card visit-note" onSubmit={submit}>
          <h2>{d.cz.note}</h2>
          <label>
            {d.cz.findings}
            <textarea name="findings" rows={3} required maxLength={10000} />
          </label>
          <label>
            {d.cz.assessment}
            <textarea name="assessment" rows={2} required maxLength={10000} />
          </label>
          <Icd10Picker label={d.cz.diagnosis} name="diagnosis" value={icd} onChange={setIcd} />
          <div class="row">
            <label>
              {d.cz.systolic}
              <input name="systolic" type="number" inputMode="numeric" min={50} max={300} defaultValue={sys} />
            </label>
            <label>
              {d.cz.diastolic}
              <input name="diastolic" type="number" inputMode="numeric" min={20} max={200} defaultValue={dia} />
            </label>
            <label>
              {d.cz.heartRate}
              <input name="heartRate" type="number" inputMode="numeric" min={20} max={250} />
            </label>
          </div>
          <label>
            {d.cz.instructions}
            <textarea name="instructions" rows={2} required maxLength={5000} />
          </label>
          <label class="short">
            {d.cz.followUpDays}
            <input name="followUpDays" type="number" min={1} max={365} />
          </label>
          <fieldset class="drugs">
            <legend>{d.cz.prescription}</legend>
            <PrescriptionKindFields items={drugs} />
            {drugs.map((x, i) => (
              <div class="drug" key={i}>
                <DrugPicker
                  label={d.cz.drug}
                  name={`drug-${i}`}
                  value={x.name}
                  atc={x.atc}
                  onChange={(name, atc) => {
                    setDrugs(drugs.map((y, j) => (j === i ? { ...y, name, atc } : y)));
                    setIssues([]);
                  }}
                />
                <label>
                  {d.cz.drugCode}
                  <input name={`drugCode-${i}`} value={x.drugCode} onInput={(e) => setDrug(i, 'drugCode', (e.target as HTMLInputElement).value)} />
                </label>
                <label>
                  {d.cz.quantity}
                  <input
                    name={`quantity-${i}`}
                    type="number"
                    min={1}
                    value={x.quantity}
                    onInput={(e) => setDrug(i, 'quantity', (e.target as HTMLInputElement).value)}
                  />
                </label>
                <label>
                  {d.cz.unit}
                  <input name={`unit-${i}`} value={x.unit} onInput={(e) => setDrug(i, 'unit', (e.target as HTMLInputElement).value)} />
                </label>
                <label>
                  {d.cz.dosage}
                  <input name={`dosage-${i}`} value={x.dosage} onInput={(e) => setDrug(i, 'dosage', (e.target as HTMLInputElement).value)} />
                </label>
                <label>
                  {d.cz.days}
                  <input
                    name={`days-${i}`}
                    type="number"
                    min={1}
                    max={365}
                    value={x.days}
                    onInput={(e) => setDrug(i, 'days', (e.target as HTMLInputElement).value)}
                  />
                </label>
                {drugs.length > 1 && (
                  <button type="button" onClick={() => setDrugs(drugs.filter((_, j) => j !== i))}>
                    {d.cz.removeDrug}
                  </button>
                )}
              </div>
            ))}
            <button type="button" onClick={() => setDrugs([...drugs, emptyDrug()])}>
              {d.cz.addDrug}
            </button>
            <label>
              {d.cz.advice}
              <input name="advice" maxLength={2000} />
            </label>
          </fieldset>
          <CdsCards result={rxCards} />
          <OrderSignCards gate={signGate} items={drugs} />
          <PrescribingWarnings issues={issues} reasons={reasons} onReason={(key, r) => setReasons({ ...reasons, [key]: r })} />
          <label class="check">
            <input type="checkbox" name="useInsurance" defaultChecked /> {d.cz.useInsurance}
          </label>
          <button type="submit" class="primary big" disabled={busy}>
            {d.cz.finish}
          </button>
        </form>
      ) : (
        <>
          <OrderSignCards gate={signGate} items={drugs} signed />
          <CdsCards result={discharge} headingId="cds-discharge-title" title={tcds().dischargeTitle} />
          <VisitResult v={v} />
        </>
      )}
    </section>
  );
}
