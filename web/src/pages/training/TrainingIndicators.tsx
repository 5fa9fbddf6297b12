/**
 * The training block of the programme dashboard: sessions held, hours taught, people trained,
 * per facility, and the facilities never trained (from /api/training/indicators, reports.read).
 */
import { useEffect, useState } from 'preact/hooks';
import { apiGet } from '../../api.ts';
import { fmt, tt } from '../../i18n-training.ts';
import type { TrainingIndicators as Report } from '../../../../src/training/contract.ts';

export function TrainingIndicators() {
  const d = tt();
  const [r, setR] = useState<Report>();
  useEffect(() => {
    apiGet<Report>('/api/training/indicators').then(setR, () => undefined);
  }, []);
  if (!r) return null;
  return (
    <section class="card" data-testid="training-indicators">
      <h2>
        {d.indicatorsTitle} – {r.scope.label}
      </h2>
      <div class="kpis">
        <div class="kpi">
          <span>{d.indSessions}</span>
          <strong data-testid="training-sessions">{fmt(r.sessions, 0)}</strong>
        </div>
        <div class="kpi">
          <span>{d.indHours}</span>
          <strong>{fmt(r.hours)}</strong>
        </div>
        <div class="kpi">
          <span>{d.indPeople}</span>
          <strong data-testid="training-people">{fmt(r.peopleTrained, 0)}</strong>
        </div>
      </div>
      {r.byFacility.length > 0 && (
        <div class="table-wrap">
          <table>
            <caption>{d.byFacility}</caption>
            <thead>
              <tr>
                <th>{d.facility}</th>
                <th>{d.indPeople}</th>
                <th>{d.creditsField}</th>
              </tr>
            </thead>
            <tbody>
              {r.byFacility.map((f) => (
                <tr key={f.organizationId}>
                  <td>{f.name}</td>
                  <td>{fmt(f.people, 0)}</td>
                  <td>{fmt(f.credits)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <details>
        <summary>
          {d.neverTrained} ({fmt(r.neverTrained.length, 0)})
        </summary>
        <ul>
          {r.neverTrained.map((f) => (
            <li key={f.organizationId}>{f.name}</li>
          ))}
        </ul>
      </details>
    </section>
  );
}
