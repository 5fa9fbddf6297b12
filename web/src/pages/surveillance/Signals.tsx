/**
 * The provincial disease-control officer's early-warning page (/surveillance), map-free: Group-A
 * alerts first, then the table of signals (disease, place, ISO week, algorithm, count against
 * expected, statistic against threshold, status) with a confirm/dismiss form that needs a note,
 * and a weekly time-series chart (SVG) of the chosen disease and place with the signal weeks
 * marked. Figures come from the server for the officer's own province only.
 */
import { useEffect, useState } from 'preact/hooks';
import { apiGet, apiSend } from '../../api.ts';
import { formatDate, formatDateTime, t } from '../../i18n.ts';
import { dec, ts } from '../../i18n-surveillance.ts';
import { path } from '../../router.ts';
import type { SeriesView, SignalList, SignalView } from '../../../../src/surveillance/contract.ts';
import { SeriesChart } from './SeriesChart.tsx';

function Decide({ s, onDone }: { s: SignalView; onDone: (msg: string) => void }) {
  const d = ts();
  const [mode, setMode] = useState<'confirmed' | 'dismissed'>();
  const [note, setNote] = useState('');
  const [error, setError] = useState<string>();
  if (s.status !== 'open')
    return (
      <span>
        <span class={`badge sv-${s.status}`}>{d.statuses[s.status]}</span>
        {s.decidedBy && <span class="meta"> {d.decidedBy(s.decidedBy, formatDateTime(s.decidedAt ?? undefined))}</span>}
        {s.note && <span class="meta"> — {s.note}</span>}
      </span>
    );
  if (!mode)
    return (
      <span class="sv-actions">
        <button type="button" onClick={() => setMode('confirmed')} data-testid={`confirm-${s.id}`}>
          {d.confirm}
        </button>
        <button type="button" class="secondary" onClick={() => setMode('dismissed')}>
          {d.dismiss}
        </button>
      </span>
    );
  const submit = async (e: Event) => {
    e.preventDefault();
    setError(undefined);
    try {
      await apiSend('POST', `/api/surveillance/signals/${s.id}/decision`, { decision: mode, note });
      onDone(d.saved);
    } catch (err) {
      setError((err as Error).message);
    }
  };
  return (
    <form class="sv-decide" onSubmit={submit}>
      <label>
        {d.note}
        <textarea
          name="note"
          required
          minLength={3}
          placeholder={d.notePlaceholder}
          value={note}
          onInput={(e) => setNote((e.target as HTMLTextAreaElement).value)}
        />
      </label>
      {error && <p class="error">{error}</p>}
      <button type="submit">{mode === 'confirmed' ? d.confirm : d.dismiss}</button>{' '}
      <button type="button" class="secondary" onClick={() => setMode(undefined)}>
        {d.cancel}
      </button>
    </form>
  );
}

export function SurveillancePage() {
  const d = ts();
  const g = t();
  const [status, setStatus] = useState('all');
  const [list, setList] = useState<SignalList>();
  const [error, setError] = useState<string>();
  const [message, setMessage] = useState<string>();
  const [pick, setPick] = useState<{ disease: string; commune: number }>();
  const [series, setSeries] = useState<SeriesView>();
  const [tick, setTick] = useState(0);
  const wanted = new URLSearchParams(path.value.split('?')[1] ?? '').get('signal');

  useEffect(() => {
    apiGet<SignalList>(`/api/surveillance/signals?status=${status}&weeks=10`).then(
      (l) => {
        setList(l);
        if (!pick) {
          const first = l.signals.find((s) => String(s.id) === wanted) ?? l.signals.find((s) => s.algorithm !== 'group-a') ?? l.signals[0];
          if (first) setPick({ disease: first.disease.code, commune: first.place.communeCode });
        }
      },
      (e) => setError((e as Error).message),
    );
  }, [status, tick]);
  useEffect(() => {
    if (!pick) return;
    apiGet<SeriesView>(`/api/surveillance/series?disease=${pick.disease}&commune=${pick.commune}&weeks=16`).then(setSeries, (e) =>
      setError((e as Error).message),
    );
  }, [pick?.disease, pick?.commune, tick]);

  if (error) return <p class="error">{error}</p>;
  if (!list) return <p class="notice">{g.loading}</p>;
  const groupA = list.signals.filter((s) => s.algorithm === 'group-a');
  const others = list.signals.filter((s) => s.algorithm !== 'group-a');
  const done = (msg: string) => {
    setMessage(msg);
    setTick((n) => n + 1);
  };
  const row = (s: SignalView) => (
    <tr key={s.id} data-testid={`signal-${s.id}`} class={String(s.id) === wanted ? 'sv-wanted' : undefined}>
      <td data-label={d.week}>
        {s.weekLabel}
        <div class="meta">{formatDate(s.week)}</div>
      </td>
      <td data-label={d.disease}>
        {s.disease.vi}{' '}
        <span class={`badge sv-g${s.disease.group}`} title={s.disease.en}>
          {d.group(s.disease.group)}
        </span>
      </td>
      <td data-label={d.place}>{s.place.communeCode ? s.place.name : `${d.wholeProvince} (${s.place.name})`}</td>
      <td data-label={d.algorithm}>{d.algorithms[s.algorithm]}</td>
      <td data-label={`${d.observed} / ${d.expected}`}>
        {s.observed} / {dec(s.expected)}
      </td>
      <td data-label={d.statistic}>
        {dec(s.statistic, 2)} &gt; {dec(s.threshold)}
      </td>
      <td data-label={d.actions}>
        <button type="button" class="link" onClick={() => setPick({ disease: s.disease.code, commune: s.place.communeCode })}>
          {d.showSeries}
        </button>
        <div>
          <Decide s={s} onDone={done} />
        </div>
      </td>
    </tr>
  );
  const head = (
    <thead>
      <tr>
        <th>{d.week}</th>
        <th>{d.disease}</th>
        <th>{d.place}</th>
        <th>{d.algorithm}</th>
        <th>
          {d.observed} / {d.expected}
        </th>
        <th>{d.statistic}</th>
        <th>{d.actions}</th>
      </tr>
    </thead>
  );
  return (
    <section class="surveillance">
      <h1>{d.title}</h1>
      <p class="meta">
        {d.province}: <strong data-testid="sv-province">{list.province.name}</strong> · {d.listVersion}: {list.listVersion}
      </p>
      {!list.listVerified && <p class="notice">{d.listUnverified}</p>}
      {message && (
        <p class="notice" role="status">
          {message}
        </p>
      )}
      <h2>{d.groupAAlerts}</h2>
      {groupA.length ? (
        <div class="table-wrap card sv-alerts" data-testid="group-a">
          <table class="obs">
            {head}
            <tbody>{groupA.map(row)}</tbody>
          </table>
        </div>
      ) : (
        <p class="meta">{d.noGroupA}</p>
      )}
      <h2>{d.signals}</h2>
      <label class="sv-filter">
        {d.status}{' '}
        <select value={status} onChange={(e) => setStatus((e.target as HTMLSelectElement).value)}>
          <option value="all">{d.all}</option>
          {['open', 'confirmed', 'dismissed'].map((k) => (
            <option key={k} value={k}>
              {d.statuses[k]}
            </option>
          ))}
        </select>
      </label>
      {others.length ? (
        <div class="table-wrap card" data-testid="signals">
          <table class="obs">
            {head}
            <tbody>{others.map(row)}</tbody>
          </table>
        </div>
      ) : (
        <p class="meta">{d.noSignals}</p>
      )}
      {series && (
        <div class="card" data-testid="series">
          <h2>{d.seriesTitle(series.disease.vi, series.place.communeCode ? series.place.name : `${d.wholeProvince} (${series.place.name})`)}</h2>
          <SeriesChart s={series} />
          <p class="meta">
            {series.population ? d.population(dec(series.population.value, 0), series.population.year, series.population.source) : d.noPopulation}
          </p>
        </div>
      )}
      <p class="hint">{d.methods}</p>
    </section>
  );
}
