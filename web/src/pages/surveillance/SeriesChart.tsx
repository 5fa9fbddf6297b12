/**
 * A weekly count series as an SVG bar chart (no chart library): one bar per ISO week, weeks with a
 * signal in red, the count above each bar, week labels below (every other one on a phone). Scales
 * to its container's width; the table beside it carries the same figures for screen readers.
 */
import type { SeriesView } from '../../../../src/surveillance/contract.ts';
import { dec, ts } from '../../i18n-surveillance.ts';

export function SeriesChart({ s }: { s: SeriesView }) {
  const d = ts();
  const W = 640;
  const H = 220;
  const pad = { l: 28, r: 8, t: 18, b: 34 };
  const max = Math.max(4, ...s.weeks.map((w) => w.cases));
  const flagged = new Set(s.signals.map((x) => x.week));
  const bw = (W - pad.l - pad.r) / s.weeks.length;
  const y = (v: number) => pad.t + (H - pad.t - pad.b) * (1 - v / max);
  const ticks = [0, Math.round(max / 2), max];
  return (
    <figure class="sv-chart">
      <svg viewBox={`0 0 ${W} ${H}`} width="100%" role="img" aria-label={d.seriesTitle(s.disease.vi, s.place.name)}>
        {ticks.map((v) => (
          <g key={v}>
            <line x1={pad.l} x2={W - pad.r} y1={y(v)} y2={y(v)} stroke="#ddd" />
            <text x={pad.l - 4} y={y(v) + 4} text-anchor="end" font-size="11" fill="#555">
              {v}
            </text>
          </g>
        ))}
        {s.weeks.map((w, i) => {
          const x = pad.l + i * bw;
          const hot = flagged.has(w.week);
          return (
            <g key={w.week} data-week={w.week} data-cases={w.cases}>
              <rect x={x + 2} y={y(w.cases)} width={Math.max(1, bw - 4)} height={y(0) - y(w.cases)} fill={hot ? '#c62828' : '#5c7fa3'}>
                <title>
                  {w.label}: {w.cases} {d.cases}
                  {w.ratePer100k !== null ? ` (${d.per100k(dec(w.ratePer100k, 1))})` : ''}
                </title>
              </rect>
              {w.cases > 0 && (
                <text x={x + bw / 2} y={y(w.cases) - 3} text-anchor="middle" font-size="11" fill="#222">
                  {w.cases}
                </text>
              )}
              {i % 2 === s.weeks.length % 2 && (
                <text x={x + bw / 2} y={H - pad.b + 14} text-anchor="middle" font-size="10" fill="#555">
                  {w.label.slice(5)}
                </text>
              )}
            </g>
          );
        })}
      </svg>
      <figcaption class="meta">
        <span class="sv-key sv-key-hot" /> {d.signalWeek} · <span class="sv-key" /> {d.cases}
      </figcaption>
    </figure>
  );
}
