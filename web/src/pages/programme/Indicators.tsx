/**
 * The analyst's dashboard (/indicators): the programme's indicators for the viewer's scope (the
 * Ministry: the country; a provincial department: its province; a facility administrator: the
 * facility), filtered by period, place, level and specialty; charts (uPlot, loaded only on this
 * page), the province table with drill-down to facilities, the ranked silent sites, exports.
 * Aggregates only: the server suppresses cells under 5 and the page shows them as "<5".
 */
import { useEffect, useState } from 'preact/hooks';
import type { ComponentType } from 'preact';
import { apiGet } from '../../api.ts';
import { formatDate, t } from '../../i18n.ts';
import { num, pct, tp } from '../../i18n-programme.ts';
import { navigate, path } from '../../router.ts';
import type { IndicatorReport } from '../../../../src/programme/contract.ts';
import type { ChartsProps } from './IndicatorCharts.tsx';
import { TrainingIndicators } from '../training/TrainingIndicators.tsx';
import { DeviceIndicators } from './DeviceIndicators.tsx';

const FILTERS = ['from', 'to', 'province', 'level', 'specialty'] as const;

function queryOf(): URLSearchParams {
  const q = new URLSearchParams(path.value.split('?')[1] ?? '');
  const out = new URLSearchParams();
  for (const k of FILTERS) if (q.get(k)) out.set(k, q.get(k)!);
  return out;
}

export function Indicators() {
  const d = tp();
  const g = t();
  const q = queryOf();
  const qs = q.toString();
  const [report, setReport] = useState<IndicatorReport>();
  const [error, setError] = useState<string>();
  const [provinces, setProvinces] = useState<{ code: number; name: string }[]>([]);
  const [Charts, setCharts] = useState<ComponentType<ChartsProps>>();
  useEffect(() => {
    setError(undefined);
    apiGet<IndicatorReport>(`/api/programme/indicators${qs ? `?${qs}` : ''}`).then(setReport, (e) => setError((e as Error).message));
  }, [qs]);
  useEffect(() => {
    apiGet<{ code: number; name: string }[]>('/api/programme/provinces').then(setProvinces, () => undefined);
    // The chart library is loaded only here, after the figures.
    void import('./IndicatorCharts.tsx').then((m) => setCharts(() => m.IndicatorCharts));
  }, []);
  const go = (next: Record<string, string | undefined>) => {
    const n = new URLSearchParams(qs);
    for (const [k, v] of Object.entries(next))
      if (v) n.set(k, v);
      else n.delete(k);
    navigate(`/indicators${n.toString() ? `?${n}` : ''}`);
  };
  const onFilter = (e: Event) => {
    e.preventDefault();
    const f = new FormData(e.target as HTMLFormElement);
    go(Object.fromEntries(FILTERS.map((k) => [k, String(f.get(k) ?? '') || undefined])));
  };
  if (error) return <p class="error">{error}</p>;
  if (!report) return <p class="notice">{g.loading}</p>;
  const r = report;
  const national = r.scope.kind === 'national';
  const visits = r.visitsByCondition.reduce<number | null>((a, v) => (a === null || v.visits === null ? null : a + v.visits), 0);
  return (
    <section class="indicators">
      <h1>{d.indicatorsTitle}</h1>
      <p class="meta">
        {d.scope}: <strong data-testid="scope">{r.scope.label}</strong> · {r.period.from} – {r.period.to} · {formatDate(r.period.asOf)}
      </p>
      <form class="card filters" onSubmit={onFilter}>
        <label>
          {d.from}
          <input type="month" name="from" value={q.get('from') ?? r.period.from} />
        </label>
        <label>
          {d.to}
          <input type="month" name="to" value={q.get('to') ?? r.period.to} />
        </label>
        {national && (
          <label>
            {d.province}
            <select name="province" value={q.get('province') ?? ''}>
              <option value="">{d.allProvinces}</option>
              {provinces.map((p) => (
                <option key={p.code} value={String(p.code)}>
                  {p.name}
                </option>
              ))}
            </select>
          </label>
        )}
        <label>
          {d.level}
          <select name="level" value={q.get('level') ?? ''}>
            <option value="">{d.allLevels}</option>
            {['central', 'provincial', 'regional', 'commune', 'private'].map((l) => (
              <option key={l} value={l}>
                {d.levels[l]}
              </option>
            ))}
          </select>
        </label>
        <label>
          {d.specialty}
          <select name="specialty" value={q.get('specialty') ?? ''}>
            <option value="">{d.allSpecialties}</option>
            {Object.entries(d.specialties).map(([k, v]) => (
              <option key={k} value={k}>
                {v}
              </option>
            ))}
          </select>
        </label>
        <button type="submit">{d.apply}</button>
      </form>
      <p class="hint">{d.suppressedNote}</p>

      <div class="kpis">
        <div class="card kpi" data-testid="coverage">
          <span class="meta">{d.coverage}</span>
          <strong>{pct(r.coverage.share)}</strong>
          <span data-testid="coverage-count">{d.coverageOf(r.coverage.approvedUnits, r.coverage.publicFacilities)}</span>
          <span class="meta">{d.goal}</span>
        </div>
        <div class="card kpi">
          <span class="meta">{d.requested}</span>
          <strong>{num(r.consults.requested)}</strong>
          <span>
            {d.accepted}: {num(r.consults.accepted)} · {d.concluded}: {num(r.consults.concluded)}
          </span>
        </div>
        <div class="card kpi">
          <span class="meta">{d.meetings}</span>
          <strong>{num(r.meetings.held)}</strong>
          <span>
            {d.sitesJoined}: {num(r.meetings.sitesJoined)} · {d.hours}: {num(r.meetings.hours, 1)}
          </span>
        </div>
        <div class="card kpi">
          <span class="meta">{d.visits}</span>
          <strong>{num(visits)}</strong>
          <span>
            {d.prescriptions}: {num(r.prescriptions)}
          </span>
        </div>
        <div class="card kpi">
          <span class="meta">{d.silentSites}</span>
          <strong data-testid="silent-count">{num(r.silent.length)}</strong>
          <span>
            {d.silent90}: {num(r.silent.filter((s) => s.window === 90).length)}
          </span>
        </div>
      </div>

      <p class="toolbar">
        <a href={`/api/programme/indicators.csv${qs ? `?${qs}` : ''}`} download>
          {d.exportCsv}
        </a>
        <a href={`/api/programme/indicators.xlsx${qs ? `?${qs}` : ''}`} download>
          {d.exportXlsx}
        </a>
        <a href={`/api/programme/report.pdf${qs ? `?${qs}` : ''}`} target="_blank" rel="noopener">
          {d.exportPdf}
        </a>
      </p>

      {Charts ? <Charts report={r} /> : <p class="notice">{g.loading}</p>}

      <h2>{d.timeliness}</h2>
      <div class="table-wrap">
        <table class="obs">
          <thead>
            <tr>
              <th />
              <th>{d.cases}</th>
              <th>{d.median}</th>
              <th>{d.p90}</th>
              <th>{d.target}</th>
              <th>{d.withinTarget}</th>
            </tr>
          </thead>
          <tbody>
            {r.durations.map((x) => (
              <tr key={`${x.metric}-${x.urgency}`}>
                <th>
                  {d.metric[x.metric]} · {d.urgency[x.urgency]}
                </th>
                <td>{num(x.n)}</td>
                <td>{x.medianMinutes === null ? '–' : num(x.medianMinutes)}</td>
                <td>{x.p90Minutes === null ? '–' : num(x.p90Minutes)}</td>
                <td>{num(x.targetMinutes)}</td>
                <td>{pct(x.shareWithinTarget)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <p class="hint">{d.durationsNote}</p>

      <h2>{d.outcomes}</h2>
      <div class="kpis" data-testid="outcomes">
        <div class="card kpi">
          <span class="meta">{d.transfersAvoided}</span>
          <strong>{num(r.outcomes.transfersAvoided)}</strong>
          <span>
            {d.localAdvised}: {num(r.outcomes.localTreatmentAdvised)}
          </span>
        </div>
        <div class="card kpi">
          <span class="meta">{d.followedUp}</span>
          <strong>{num(r.outcomes.followedUp)}</strong>
          <span>{(['improved', 'stable', 'transferred', 'died'] as const).map((k) => `${d.outcome[k]}: ${num(r.outcomes[k])}`).join(' · ')}</span>
        </div>
      </div>

      <DeviceIndicators devices={r.devices} />

      {r.provinces.length > 0 && (
        <>
          <h2>{d.provinces}</h2>
          <div class="table-wrap">
            <table class="obs" data-testid="province-table">
              <thead>
                <tr>
                  <th>{d.province}</th>
                  <th>{d.coverage}</th>
                  <th>{d.requested}</th>
                  <th>{d.concluded}</th>
                  <th>{d.sitesJoined}</th>
                  <th>{d.visits}</th>
                  <th>{d.silent90}</th>
                </tr>
              </thead>
              <tbody>
                {r.provinces.map((p) => (
                  <tr key={p.provinceCode}>
                    <th>
                      {national ? (
                        <button type="button" class="link" onClick={() => go({ province: String(p.provinceCode) })} title={d.drill}>
                          {p.provinceName}
                        </button>
                      ) : (
                        p.provinceName
                      )}
                    </th>
                    <td>
                      {pct(p.coverage)} ({p.approvedUnits}/{p.publicFacilities})
                    </td>
                    <td>{num(p.requested)}</td>
                    <td>{num(p.concluded)}</td>
                    <td>{num(p.meetingsJoined)}</td>
                    <td>{num(p.visits)}</td>
                    <td>{p.silent90}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}

      {r.facilities.length > 0 && (
        <>
          <h2>{d.facilities}</h2>
          {national && q.get('province') && (
            <button type="button" class="link" onClick={() => go({ province: undefined })}>
              {d.backNational}
            </button>
          )}
          <div class="table-wrap">
            <table class="obs" data-testid="facility-table">
              <thead>
                <tr>
                  <th>{d.name}</th>
                  <th>{d.status}</th>
                  <th>{d.requested}</th>
                  <th>{d.received}</th>
                  <th>{d.sitesJoined}</th>
                  <th>{d.visits}</th>
                  <th>{d.lastActivity}</th>
                </tr>
              </thead>
              <tbody>
                {r.facilities.map((f) => (
                  <tr key={f.id}>
                    <th>
                      {f.name} <span class="meta">{f.code}</span>
                    </th>
                    <td>{d.unitStatus[f.unitStatus] ?? f.unitStatus}</td>
                    <td>{num(f.requested)}</td>
                    <td>{num(f.received)}</td>
                    <td>{num(f.meetingsJoined)}</td>
                    <td>{num(f.visits)}</td>
                    <td>{f.lastActivity ? formatDate(f.lastActivity) : d.never}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        </>
      )}

      <h2>{d.silentSites}</h2>
      <p class="hint">{d.silentNote}</p>
      {r.silent.length === 0 ? (
        <p class="notice">{d.noData}</p>
      ) : (
        <ol class="silent" data-testid="silent-list">
          {r.silent.map((s) => (
            <li key={s.id}>
              <strong>{s.name}</strong> <span class="meta">{s.code}</span> · {s.provinceName} · {d.levels[s.level] ?? s.level} ·{' '}
              <span class={`badge ${s.window === 90 ? 'sev-high' : 'sev-medium'}`}>{d.window(s.window)}</span> ·{' '}
              {s.lastActivity ? `${d.lastActivity}: ${formatDate(s.lastActivity)} (${d.daysSilent(s.daysSilent ?? 0)})` : d.never}
            </li>
          ))}
        </ol>
      )}
      <TrainingIndicators />
    </section>
  );
}
