/** My visits (and my family's): the upcoming ones first, then the past ones. */
import { useEffect, useState } from 'preact/hooks';
import { apiGet } from '../../api.ts';
import { formatDateTime, t } from '../../i18n.ts';
import type { MyVisit } from '../../../../src/visits/contract.ts';

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
