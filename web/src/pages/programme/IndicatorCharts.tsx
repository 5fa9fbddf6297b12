/**
 * The dashboard's charts, in their own module so that uPlot is loaded only on /indicators
 * (dynamic import): consults by month (requested, accepted, concluded; suppressed months are
 * gaps) and the coverage trend against the 2030 goal.
 */
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { IndicatorReport } from '../../../../src/programme/contract.ts';
import { tp } from '../../i18n-programme.ts';

export interface ChartsProps {
  report: IndicatorReport;
}

const monthTs = (m: string) => Date.UTC(Number(m.slice(0, 4)), Number(m.slice(5, 7)) - 1, 15) / 1000;
const monthLabel = (ts: number) => {
  const d = new Date(ts * 1000);
  return `${String(d.getUTCMonth() + 1).padStart(2, '0')}/${String(d.getUTCFullYear()).slice(2)}`;
};

function Chart({
  title,
  data,
  series,
  yLabel,
  monthWord,
}: {
  title: string;
  data: uPlot.AlignedData;
  series: { label: string; stroke: string }[];
  yLabel?: (v: number) => string;
  monthWord: string;
}) {
  const el = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!el.current) return;
    const width = Math.max(260, Math.min(el.current.clientWidth, 900));
    const plot = new uPlot(
      {
        width,
        height: 220,
        scales: { x: { time: false } },
        axes: [
          { values: (_u, ticks) => ticks.map(monthLabel), space: 50 },
          { values: (_u, ticks) => ticks.map((v) => (yLabel ? yLabel(v) : String(v))), size: 50 },
        ],
        series: [
          { label: monthWord, value: (_u: uPlot, v: number | null) => (v == null ? '–' : monthLabel(v)) },
          ...series.map((s) => ({
            label: s.label,
            stroke: s.stroke,
            width: 2,
            spanGaps: false,
            points: { show: true },
            value: (_u: uPlot, v: number | null) => (v == null ? '–' : yLabel ? yLabel(v) : String(v)),
          })),
        ],
        legend: { show: true },
      },
      data,
      el.current,
    );
    return () => plot.destroy();
  }, [JSON.stringify(data)]);
  return (
    <figure class="card">
      <figcaption>{title}</figcaption>
      <div class="chart" ref={el} />
    </figure>
  );
}

export function IndicatorCharts({ report }: ChartsProps) {
  const d = tp();
  const months = report.consultsByMonth;
  const x = months.map((m) => monthTs(m.month));
  const trend = report.coverage.trend;
  return (
    <div class="charts">
      <Chart
        title={d.byMonth}
        monthWord={d.month}
        data={[x, months.map((m) => m.requested), months.map((m) => m.accepted), months.map((m) => m.concluded)]}
        series={[
          { label: d.requested, stroke: '#0b6e4f' },
          { label: d.accepted, stroke: '#2a7ab0' },
          { label: d.concluded, stroke: '#b5651d' },
        ]}
      />
      <Chart
        title={`${d.coverageTrend} (${d.goal})`}
        monthWord={d.month}
        data={[trend.map((m) => monthTs(m.month)), trend.map((m) => (m.share === null ? null : Math.round(m.share * 1000) / 10)), trend.map(() => 100)]}
        series={[
          { label: d.coverage, stroke: '#0b6e4f' },
          { label: d.goal, stroke: '#999' },
        ]}
        yLabel={(v) => `${v}%`}
      />
    </div>
  );
}
