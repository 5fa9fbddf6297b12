/**
 * A time-series chart of one vital sign (uPlot: ~50 kB, fast on cheap phones). uPlot is loaded when
 * a chart is first drawn, not with the app: a station on a weak link gets its first screen sooner.
 */
import { useEffect, useRef } from 'preact/hooks';
import type uPlot from 'uplot';

// Its stylesheet comes with it (not in the first screen's styles, which index.html carries inline).
const loadUplot = () => Promise.all([import('uplot'), import('./uplot-style.ts')]).then(([m]) => m.default);

export interface Series {
  label: string;
  color: string;
  points: { t: number; v: number }[];
}

const dayLabel = new Intl.DateTimeFormat('vi-VN', { timeZone: 'Asia/Ho_Chi_Minh', day: '2-digit', month: '2-digit', year: '2-digit' });

export function VitalsChart({ series, unit }: { series: Series[]; unit: string }) {
  const el = useRef<HTMLDivElement>(null);
  useEffect(() => {
    let plot: uPlot | undefined;
    let gone = false;
    const resize = () => plot?.setSize({ width: Math.max(280, el.current!.clientWidth), height: 220 });
    void loadUplot().then((UPlot) => {
      if (gone || !el.current) return;
      plot = draw(UPlot, el.current);
      window.addEventListener('resize', resize);
    });
    return () => {
      gone = true;
      window.removeEventListener('resize', resize);
      plot?.destroy();
    };
  }, [series, unit]);
  function draw(UPlot: typeof uPlot, host: HTMLDivElement): uPlot {
    const times = [...new Set(series.flatMap((s) => s.points.map((p) => p.t)))].sort((a, b) => a - b);
    const data: uPlot.AlignedData = [
      times.map((t) => t / 1000),
      ...series.map((s) => {
        const byTime = new Map(s.points.map((p) => [p.t, p.v]));
        return times.map((t) => byTime.get(t) ?? null);
      }),
    ];
    const width = Math.max(280, host.clientWidth);
    return new UPlot(
      {
        width,
        height: 220,
        tzDate: (ts) => UPlot.tzDate(new Date(ts * 1000), 'Asia/Ho_Chi_Minh'),
        scales: { x: { time: true, range: (_u, min, max) => (min === max ? [min - 7 * 86400, max + 7 * 86400] : [min, max]) } },
        series: [{}, ...series.map((s) => ({ label: s.label, stroke: s.color, width: 2, points: { size: 7 }, spanGaps: true }))],
        // Vietnamese date labels (dd/mm/yy) instead of uPlot's English month names.
        axes: [{ values: (_u, splits) => splits.map((ts) => dayLabel.format(new Date(ts * 1000))) }, { label: unit, size: 56 }],
        legend: { live: false },
      },
      data,
      host,
    );
  }
  return <div class="chart" ref={el} role="img" aria-label={series.map((s) => s.label).join(', ')} />;
}
