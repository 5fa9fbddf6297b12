/**
 * The data-protection officer's audit viewer: filters (person, patient, kind of action, outcome,
 * date range, emergency access only), readable labels (no raw codes), paging (newest first, by
 * id), CSV export of the same filter (the server records the export), the chain check. Denied
 * entries say what was tried. Types: src/audit/officer-contract.ts; labels: src/audit/labels.ts.
 */
import { useEffect, useState } from 'preact/hooks';
import type { ChainCheck } from '../../../../src/audit/contract.ts';
import type { OfficerAuditEntry, OfficerAuditPage } from '../../../../src/audit/officer-contract.ts';
import { apiGet } from '../../api.ts';
import { formatDateTime, lang } from '../../i18n.ts';
import { ta } from '../../i18n-admin.ts';
import { systemReasonLabel } from '../../../../src/audit/labels.ts';
import '../../admin.css';

interface Filters {
  who: string;
  patient: string;
  action: string;
  outcome: string;
  from: string;
  to: string;
  breakGlass: boolean;
}
const EMPTY: Filters = { who: '', patient: '', action: '', outcome: '', from: '', to: '', breakGlass: false };

/** dd/mm/yyyy (as typed) → yyyy-mm-dd; undefined when it is not a date. */
export function isoDay(text: string): string | undefined {
  const m = /^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$/.exec(text.trim());
  if (!m) return undefined;
  const iso = `${m[3]}-${m[2].padStart(2, '0')}-${m[1].padStart(2, '0')}`;
  const d = new Date(`${iso}T00:00:00Z`);
  return Number.isNaN(d.getTime()) || d.toISOString().slice(0, 10) !== iso ? undefined : iso;
}

function queryOf(f: Filters, extra: Record<string, string> = {}): string {
  const q = new URLSearchParams();
  for (const k of ['who', 'patient', 'action', 'outcome'] as const) if (f[k]) q.set(k, f[k]);
  for (const k of ['from', 'to'] as const) {
    const day = isoDay(f[k]);
    if (day) q.set(k, day);
  }
  if (f.breakGlass) q.set('breakGlass', 'true');
  for (const [k, v] of Object.entries(extra)) q.set(k, v);
  return q.toString();
}

export function OfficerAudit() {
  const a = ta();
  const [draft, setDraft] = useState<Filters>(EMPTY);
  const [filters, setFilters] = useState<Filters>(EMPTY);
  const [cursors, setCursors] = useState<(number | undefined)[]>([undefined]);
  const [page, setPage] = useState<OfficerAuditPage>();
  const [error, setError] = useState<string>();
  const [chain, setChain] = useState<{ ok: boolean; text: string }>();
  const before = cursors[cursors.length - 1];
  useEffect(() => {
    setPage(undefined);
    apiGet<OfficerAuditPage>(`/api/audit/search?${queryOf(filters, { limit: '25', ...(before ? { before: String(before) } : {}) })}`).then(
      (p) => {
        setPage(p);
        setError(undefined);
      },
      (e) => setError((e as Error).message),
    );
  }, [filters, before]);
  const set = (k: keyof Filters) => (e: Event) =>
    setDraft({
      ...draft,
      [k]: (e.target as HTMLInputElement).type === 'checkbox' ? (e.target as HTMLInputElement).checked : (e.target as HTMLInputElement).value,
    });
  return (
    <section class="officer-audit">
      <h1>{a.auditTitle}</h1>
      <form
        class="card"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          setCursors([undefined]);
          setFilters(draft);
        }}
      >
        <div class="audit-filters">
          <label>
            {a.filterWho}
            <input name="who" value={draft.who} placeholder={a.filterWhoHint} onInput={set('who')} />
          </label>
          <label>
            {a.filterPatient}
            <input name="patient" value={draft.patient} placeholder={a.filterPatientHint} onInput={set('patient')} />
          </label>
          <label>
            {a.filterAction}
            <select name="action" value={draft.action} onChange={set('action')}>
              {Object.entries(a.actionAreas).map(([k, v]) => (
                <option key={k} value={k}>
                  {v}
                </option>
              ))}
            </select>
          </label>
          <label>
            {a.filterOutcome}
            <select name="outcome" value={draft.outcome} onChange={set('outcome')}>
              <option value="">{a.any}</option>
              {Object.entries(a.outcomes).map(([k, v]) => (
                <option key={k} value={k}>
                  {v}
                </option>
              ))}
            </select>
          </label>
          <label>
            {a.filterFrom}
            <input name="from" inputMode="numeric" placeholder="dd/mm/yyyy" pattern="\d{1,2}/\d{1,2}/\d{4}" value={draft.from} onInput={set('from')} />
          </label>
          <label>
            {a.filterTo}
            <input name="to" inputMode="numeric" placeholder="dd/mm/yyyy" pattern="\d{1,2}/\d{1,2}/\d{4}" value={draft.to} onInput={set('to')} />
          </label>
          <label class="check">
            <input type="checkbox" name="breakGlass" checked={draft.breakGlass} onChange={set('breakGlass')} /> {a.onlyGlass}
          </label>
        </div>
        <div class="row">
          <button type="submit" class="primary">
            {a.apply}
          </button>
          <button
            type="button"
            onClick={() => {
              setDraft(EMPTY);
              setCursors([undefined]);
              setFilters(EMPTY);
            }}
          >
            {a.clear}
          </button>
          <a class="button" href={`/api/audit/export.csv?${queryOf(filters, { lang: lang.value })}`} download>
            {a.exportCsv}
          </a>
          <button
            type="button"
            onClick={async () => {
              const r = await apiGet<ChainCheck>('/api/audit/verify');
              setChain({ ok: r.ok, text: r.ok ? a.chainOk(r.checked) : a.chainBroken(r.firstBad!.chainPos, r.firstBad!.problem) });
            }}
          >
            {a.verifyChain}
          </button>
        </div>
      </form>
      {chain && (
        <p class={chain.ok ? 'ok' : 'error'} role="status">
          {chain.text}
        </p>
      )}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {page?.items.length === 0 && <p class="notice">{a.noEntries}</p>}
      <ul class="audit-list" aria-busy={!page}>
        {page?.items.map((i) => (
          <Entry key={i.id} entry={i} />
        ))}
      </ul>
      <nav class="pager" aria-label={a.auditTitle}>
        <button type="button" disabled={cursors.length === 1} onClick={() => setCursors([undefined])}>
          {a.firstPage}
        </button>
        <button type="button" disabled={cursors.length === 1} onClick={() => setCursors(cursors.slice(0, -1))}>
          {a.newerPage}
        </button>
        <span class="meta">{a.page(cursors.length)}</span>
        <button type="button" disabled={!page?.next} onClick={() => page?.next && setCursors([...cursors, page.next])}>
          {a.olderPage}
        </button>
      </nav>
    </section>
  );
}

function Entry({ entry: i }: { entry: OfficerAuditEntry }) {
  const a = ta();
  const l = lang.value;
  // The platform's own work (who = system or system:area), as opposed to a person or an app.
  const system = !i.person && /^system(:|$)/.test(i.who);
  return (
    <li class={`card audit-entry${i.breakGlass ? ' glass' : ''}${i.denied ? ' denied' : ''}`} data-action={i.action}>
      <div class="meta">
        <time dateTime={i.at}>{formatDateTime(i.at)}</time>
        {i.breakGlass && (
          <>
            {' '}
            <strong class="badge">{a.emergency}</strong>
          </>
        )}
      </div>
      <div class="what">
        {i.actionLabel[l]}
        {i.resourceLabel && !i.denied && <span> · {i.resourceLabel[l]}</span>}
        {i.outcome !== 'success' && !i.denied && <span class="refused"> ({i.outcomeLabel[l]})</span>}
      </div>
      {i.denied && (
        <div class="refused">
          {a.deniedWhat}: {i.denied[l]}
        </div>
      )}
      <div>
        {a.colWho}: {i.person ?? (i.who === 'anonymous' ? a.anonymous : system ? a.systemActor : i.who)}
        {(i.person || system) && i.who !== 'anonymous' && <span class="meta"> ({i.who})</span>}
        {i.roleLabel && <span class="meta"> · {i.roleLabel[l]}</span>}
        {i.organization && <span class="meta"> · {i.organization}</span>}
      </div>
      {i.patients.length > 0 && (
        <div>
          {a.colPatient}: {i.patients.map((p) => p.name ?? '—').join(', ')}
        </div>
      )}
      {i.reason && (
        <div>
          {a.colReason}: {system ? systemReasonLabel(i.reason, l) : i.reason}
          {/* The platform's reason as it was written, kept beside its words for the officer. */}
          {system && systemReasonLabel(i.reason, l) !== i.reason && (
            <span class="meta" lang="en">
              {' '}
              ({i.reason})
            </span>
          )}
        </div>
      )}
    </li>
  );
}
