/**
 * Telemedicine-unit declarations: the facility administrator's form (/programme/declaration) —
 * services, specialties, person in charge, rooms and equipment, connection, hours — sent to the
 * provincial health department; and the department's review (/programme/declarations): the
 * declarations waiting, each opened with its answers and history, approved or returned with a reason.
 */
import { useEffect, useState } from 'preact/hooks';
import { apiGet, apiSend } from '../../api.ts';
import { formatDateTime, t } from '../../i18n.ts';
import { num, tp } from '../../i18n-programme.ts';
import { me } from '../../session.ts';
import type { DeclarationInput, DeclarationView, FacilityView, ReviewInput } from '../../../../src/programme/contract.ts';

const SERVICES = ['case-conference', 'remote-examination', 'remote-training', 'home-monitoring'] as const;
const SPECIALTIES = ['internal', 'pediatrics', 'obstetrics', 'cardiology', 'respiratory', 'oncology', 'infectious', 'general'];

function History({ view }: { view: DeclarationView }) {
  const d = tp();
  return (
    <>
      <h2>{d.history}</h2>
      <ul class="timeline" data-testid="declaration-history">
        {view.history.map((h, i) => (
          <li key={i}>
            <strong>{d.event[h.status]}</strong> · {formatDateTime(h.at)} · {h.actor}
            {h.reason && (
              <>
                {' '}
                · {d.reason}: {h.reason}
              </>
            )}
          </li>
        ))}
      </ul>
    </>
  );
}

function Answers({ a }: { a: DeclarationInput }) {
  const d = tp();
  return (
    <dl class="facts">
      <dt>{d.services}</dt>
      <dd>{a.services.map((s) => d.service[s]).join(', ')}</dd>
      <dt>{d.specialtiesField}</dt>
      <dd>{a.specialties.map((s) => d.specialties[s] ?? s).join(', ')}</dd>
      <dt>{d.staffName}</dt>
      <dd>{a.staff.map((s) => `${s.qualification} ${s.name} (${s.role})`).join('; ')}</dd>
      <dt>{d.rooms}</dt>
      <dd>{a.rooms}</dd>
      <dt>{d.ultrasound}</dt>
      <dd>{d.equipment[a.equipment.ultrasound]}</dd>
      <dt>{d.xray}</dt>
      <dd>{d.equipment[a.equipment.xray]}</dd>
      <dt>{d.connectivity}</dt>
      <dd>
        {d.connTypes[a.connectivity.type] ?? a.connectivity.type} · ↓ {num(a.connectivity.downKbps)} · ↑ {num(a.connectivity.upKbps)} kbit/s
      </dd>
      <dt>{d.openHours}</dt>
      <dd>{a.hours}</dd>
    </dl>
  );
}

export function DeclarationForm() {
  const d = tp();
  const g = t();
  const org = me.value?.organizationId;
  const [view, setView] = useState<DeclarationView>();
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    if (org) apiGet<DeclarationView>(`/api/programme/declarations/${org}`).then(setView, (e) => setError((e as Error).message));
  }, [org]);
  if (!org) return <p class="error">{g.forbidden}</p>;
  if (!view) return error ? <p class="error">{error}</p> : <p class="notice">{g.loading}</p>;
  const cur = view.current;
  const onSubmit = async (e: Event) => {
    e.preventDefault();
    const f = new FormData(e.target as HTMLFormElement);
    const body: DeclarationInput = {
      services: SERVICES.filter((s) => f.get(`service-${s}`)),
      specialties: SPECIALTIES.filter((s) => f.get(`specialty-${s}`)),
      staff: [{ name: String(f.get('staffName')), qualification: String(f.get('staffQualification')), role: String(f.get('staffRole')) }],
      rooms: Number(f.get('rooms')),
      equipment: {
        camera: !!f.get('camera'),
        display: !!f.get('display'),
        ultrasound: String(f.get('ultrasound')) as DeclarationInput['equipment']['ultrasound'],
        xray: String(f.get('xray')) as DeclarationInput['equipment']['xray'],
      },
      connectivity: {
        type: String(f.get('connType')) as DeclarationInput['connectivity']['type'],
        downKbps: Number(f.get('down')),
        upKbps: Number(f.get('up')),
      },
      hours: String(f.get('hours')),
    };
    setBusy(true);
    setError(undefined);
    try {
      setView(await apiSend<DeclarationView>('POST', `/api/programme/declarations/${org}`, body));
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section>
      <h1>{d.declarationTitle}</h1>
      <p class="meta">
        {view.facility.name} · {view.facility.code} · {view.facility.communeName}, {view.facility.provinceName}
      </p>
      <p class="hint">{d.declarationLaw}</p>
      <p>
        {d.status}: <strong data-testid="unit-status">{d.unitStatus[view.status]}</strong>
      </p>
      {error && <p class="error">{error}</p>}
      {view.status === 'submitted' ? (
        <p class="notice">{d.submitted}</p>
      ) : (
        <form class="card" onSubmit={onSubmit}>
          <fieldset>
            <legend>{d.services}</legend>
            {SERVICES.map((s) => (
              <label key={s} class="check">
                <input type="checkbox" name={`service-${s}`} checked={cur ? cur.services.includes(s) : s === 'case-conference'} /> {d.service[s]}
              </label>
            ))}
          </fieldset>
          <fieldset>
            <legend>{d.specialtiesField}</legend>
            {SPECIALTIES.map((s) => (
              <label key={s} class="check">
                <input type="checkbox" name={`specialty-${s}`} checked={cur ? cur.specialties.includes(s) : s === 'internal'} /> {d.specialties[s]}
              </label>
            ))}
          </fieldset>
          <label>
            {d.staffName}
            <input name="staffName" required maxLength={120} value={cur?.staff[0]?.name ?? ''} />
          </label>
          <label>
            {d.staffQualification}
            <input name="staffQualification" required maxLength={60} value={cur?.staff[0]?.qualification ?? ''} />
          </label>
          <label>
            {d.staffRole}
            <input name="staffRole" required maxLength={80} value={cur?.staff[0]?.role ?? ''} />
          </label>
          <label>
            {d.rooms}
            <input name="rooms" type="number" min={1} max={100} required value={String(cur?.rooms ?? 1)} />
          </label>
          <label class="check">
            <input type="checkbox" name="camera" checked={cur?.equipment.camera ?? true} /> {d.camera}
          </label>
          <label class="check">
            <input type="checkbox" name="display" checked={cur?.equipment.display ?? true} /> {d.display}
          </label>
          {(['ultrasound', 'xray'] as const).map((k) => (
            <label key={k}>
              {d[k]}
              <select name={k} value={cur?.equipment[k] ?? 'none'}>
                {['none', 'analogue', 'digital'].map((v) => (
                  <option key={v} value={v}>
                    {d.equipment[v]}
                  </option>
                ))}
              </select>
            </label>
          ))}
          <label>
            {d.connectivity}
            <select name="connType" value={cur?.connectivity.type ?? 'fibre'}>
              {['fibre', 'adsl', '4g', '5g', 'satellite', 'other'].map((v) => (
                <option key={v} value={v}>
                  {d.connTypes[v] ?? v}
                </option>
              ))}
            </select>
          </label>
          <label>
            {d.down}
            <input name="down" type="number" min={0} required value={String(cur?.connectivity.downKbps ?? '')} />
          </label>
          <label>
            {d.up}
            <input name="up" type="number" min={0} required value={String(cur?.connectivity.upKbps ?? '')} />
          </label>
          <label>
            {d.openHours}
            <input name="hours" required maxLength={200} value={cur?.hours ?? ''} />
          </label>
          <button type="submit" disabled={busy}>
            {d.submit}
          </button>
        </form>
      )}
      {view.history.length > 0 && <History view={view} />}
    </section>
  );
}

export function DeclarationReview() {
  const d = tp();
  const g = t();
  const [queue, setQueue] = useState<FacilityView[]>();
  const [open, setOpen] = useState<DeclarationView>();
  const [error, setError] = useState<string>();
  const load = () => apiGet<FacilityView[]>('/api/programme/declarations').then(setQueue, (e) => setError((e as Error).message));
  useEffect(() => void load(), []);
  const review = async (body: ReviewInput) => {
    if (!open) return;
    setError(undefined);
    try {
      setOpen(await apiSend<DeclarationView>('POST', `/api/programme/declarations/${open.facility.id}/review`, body));
      void load();
    } catch (err) {
      setError((err as Error).message);
    }
  };
  return (
    <section>
      <h1>{d.waiting}</h1>
      {error && <p class="error">{error}</p>}
      {queue === undefined ? (
        <p class="notice">{g.loading}</p>
      ) : queue.length === 0 ? (
        <p class="notice">{d.noneWaiting}</p>
      ) : (
        <ul class="patient-list">
          {queue.map((f) => (
            <li key={f.id}>
              <button
                type="button"
                class="link"
                onClick={() => apiGet<DeclarationView>(`/api/programme/declarations/${f.id}`).then(setOpen, (e) => setError((e as Error).message))}
              >
                {f.name}
              </button>{' '}
              <span class="meta">
                {f.code} · {f.communeName}, {f.provinceName}
              </span>
            </li>
          ))}
        </ul>
      )}
      {open && (
        <div class="card" data-testid="declaration">
          <h2>{open.facility.name}</h2>
          <p>
            {d.status}: <strong>{d.unitStatus[open.status]}</strong>
          </p>
          {open.current && <Answers a={open.current} />}
          {open.status === 'submitted' && (
            <form
              class="actions"
              onSubmit={(e) => {
                e.preventDefault();
                const reason = String(new FormData(e.target as HTMLFormElement).get('reason') ?? '').trim();
                void review(reason ? { decision: 'return', reason } : { decision: 'approve' });
              }}
            >
              <button type="button" onClick={() => void review({ decision: 'approve' })}>
                {d.approve}
              </button>
              <label>
                {d.returnReason}
                <input name="reason" maxLength={1000} />
              </label>
              <button type="submit" class="secondary">
                {d.returnIt}
              </button>
            </form>
          )}
          <History view={open} />
        </div>
      )}
    </section>
  );
}
