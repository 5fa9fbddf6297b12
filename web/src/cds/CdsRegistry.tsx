/**
 * The registry of AI/CDS services (system administrator): each service with its status, who
 * approved it and the validation study, the hooks and data it may receive, and its monitoring
 * figures; approve, suspend or withdraw with a reason; register a new service from a CDS Hooks
 * server's discovery (it starts as proposed).
 */
import { useEffect, useState } from 'preact/hooks';
import type { Discovered, ServiceView } from '../../../src/cds/contract.ts';
import { apiGet, apiSend } from '../api.ts';
import { formatDateTime } from '../i18n.ts';
import { tcds } from '../i18n-cds.ts';
import './cds.css';

const pct = (x?: number) => (x === undefined ? '—' : `${(x * 100).toFixed(0).replace('.', ',')} %`);

function Service({ s, onChanged }: { s: ServiceView; onChanged: () => void }) {
  const l = tcds();
  const [reason, setReason] = useState('');
  const [error, setError] = useState<string>();
  const act = async (status: string) => {
    if (reason.trim().length < 5) return setError(l.reasonNeeded);
    try {
      await apiSend('POST', `/api/cds/registry/${s.id}/status`, { status, reason: reason.trim() });
      setReason('');
      setError(undefined);
      onChanged();
    } catch (e) {
      setError((e as Error).message);
    }
  };
  const m = s.monitoring;
  const next: Record<string, string[]> = {
    proposed: ['approved', 'withdrawn'],
    approved: ['suspended', 'withdrawn'],
    suspended: ['approved', 'withdrawn'],
    withdrawn: [],
  };
  const label: Record<string, string> = { approved: l.approve, suspended: l.suspend, withdrawn: l.withdraw };
  return (
    <article class={`cds-service ${s.status}`} aria-label={s.name}>
      <h3>
        {s.name} <small>{s.version}</small> <span class="badge">{l.status[s.status]}</span>
      </h3>
      <dl>
        <dt>{l.vendor}</dt>
        <dd>{s.vendor}</dd>
        <dt>{l.intendedUse}</dt>
        <dd>{s.intendedUse}</dd>
        <dt>{l.hook}</dt>
        <dd>{s.hook}</dd>
        <dt>{l.riskClass}</dt>
        <dd>{s.riskClass}</dd>
        <dt>{l.scopes}</dt>
        <dd>{s.dataScopes.join(', ') || l.none}</dd>
        <dt>{l.evidence}</dt>
        <dd>{s.evidence ? s.evidence.url ? <a href={s.evidence.url}>{s.evidence.title ?? s.evidence.reference}</a> : s.evidence.title : l.none}</dd>
        {s.approvedBy && (
          <>
            <dt>{l.status.approved}</dt>
            <dd>{l.approvedBy(s.approvedBy, formatDateTime(s.approvedAt))}</dd>
          </>
        )}
        {s.statusReason && (
          <>
            <dt>{l.reason.replace(/ \(.*\)$/, '')}</dt>
            <dd>
              {s.statusReason} ({s.statusBy}, {formatDateTime(s.statusAt)})
            </dd>
          </>
        )}
        <dt>{l.calls}</dt>
        <dd>
          {m.calls} · {l.errors}: {m.errors}
        </dd>
        <dt>{l.latency}</dt>
        <dd>{m.latencyMedianMs === undefined ? l.none : `${m.latencyMedianMs} / ${m.latencyP95Ms} ms`}</dd>
        <dt>{l.acceptance}</dt>
        <dd>
          {pct(m.acceptanceRate)} ({m.accepted}/{m.accepted + m.overridden})
        </dd>
        <dt>{l.overrides}</dt>
        <dd>{m.overrideReasons.length ? m.overrideReasons.map((r) => `${r.reason} (${r.count})`).join('; ') : l.none}</dd>
      </dl>
      {next[s.status].length > 0 && (
        <div class="actions">
          <label>
            {l.reason}
            <input value={reason} maxLength={500} onInput={(e) => setReason((e.target as HTMLInputElement).value)} />
          </label>
          {next[s.status].map((n) => (
            <button type="button" key={n} class={n === 'approved' ? '' : 'secondary'} onClick={() => void act(n)}>
              {label[n]}
            </button>
          ))}
        </div>
      )}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </article>
  );
}

function Register({ onDone }: { onDone: () => void }) {
  const l = tcds();
  const [found, setFound] = useState<Discovered>();
  const [error, setError] = useState<string>();
  const discover = async (e: Event) => {
    e.preventDefault();
    const f = new FormData(e.target as HTMLFormElement);
    try {
      setFound(await apiSend<Discovered>('POST', '/api/cds/registry/discover', { baseUrl: String(f.get('baseUrl') ?? '').trim() }));
      setError(undefined);
    } catch (err) {
      setError((err as Error).message);
    }
  };
  const register = async (e: Event) => {
    e.preventDefault();
    const f = new FormData(e.target as HTMLFormElement);
    const serviceId = String(f.get('serviceId'));
    const hook = found!.services.find((s) => s.id === serviceId)!.hook;
    try {
      await apiSend('POST', '/api/cds/registry', {
        baseUrl: found!.baseUrl,
        serviceId,
        name: String(f.get('name')).trim(),
        version: String(f.get('version')).trim(),
        vendor: String(f.get('vendor')).trim(),
        intendedUse: String(f.get('intendedUse')).trim(),
        riskClass: String(f.get('riskClass')),
        allowedHooks: [hook],
        dataScopes: f.getAll('scope').map(String),
        ...(String(f.get('evidenceUrl') ?? '').trim()
          ? { evidence: { title: String(f.get('evidenceTitle')).trim(), url: String(f.get('evidenceUrl')).trim() } }
          : {}),
      });
      setFound(undefined);
      onDone();
    } catch (err) {
      setError((err as Error).message);
    }
  };
  return (
    <details>
      <summary>{l.register}</summary>
      <form class="register" onSubmit={discover}>
        <label>
          {l.baseUrl}
          <input name="baseUrl" required />
        </label>
        <button type="submit">{l.discover}</button>
      </form>
      {found && (
        <form class="register" onSubmit={register}>
          <label>
            {l.name}
            <select name="serviceId">
              {found.services.map((s) => (
                <option key={s.id} value={s.id}>
                  {s.title ?? s.id} ({s.hook})
                </option>
              ))}
            </select>
          </label>
          <label>
            {l.name}
            <input name="name" required />
          </label>
          <label>
            {l.version}
            <input name="version" required />
          </label>
          <label>
            {l.vendor}
            <input name="vendor" required />
          </label>
          <label>
            {l.intendedUse}
            <textarea name="intendedUse" required minLength={10} />
          </label>
          <label>
            {l.riskClass}
            <select name="riskClass">
              {['A', 'B', 'C', 'D'].map((r) => (
                <option key={r}>{r}</option>
              ))}
            </select>
          </label>
          <fieldset>
            <legend>{l.scopes}</legend>
            {[
              'Patient',
              'AllergyIntolerance',
              'MedicationRequest',
              'MedicationStatement',
              'Condition',
              'Observation',
              'Encounter',
              'Appointment',
              'QuestionnaireResponse',
            ].map((s) => (
              <label key={s}>
                <input type="checkbox" name="scope" value={s} /> {s}
              </label>
            ))}
          </fieldset>
          <label>
            {l.evidenceTitle}
            <input name="evidenceTitle" />
          </label>
          <label>
            {l.evidenceUrl}
            <input name="evidenceUrl" type="url" />
          </label>
          <button type="submit">{l.save}</button>
        </form>
      )}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </details>
  );
}

export function CdsRegistry() {
  const l = tcds();
  const [services, setServices] = useState<ServiceView[]>();
  const [error, setError] = useState<string>();
  const load = () => apiGet<ServiceView[]>('/api/cds/registry').then(setServices, (e) => setError((e as Error).message));
  useEffect(() => void load(), []);
  return (
    <section class="cds-registry">
      <h2>{l.registryTitle}</h2>
      <p class="hint">{l.registryHint}</p>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {services?.length === 0 && <p class="notice">{l.noServices}</p>}
      {services?.map((s) => (
        <Service key={s.id} s={s} onChanged={() => void load()} />
      ))}
      <Register onDone={() => void load()} />
    </section>
  );
}
