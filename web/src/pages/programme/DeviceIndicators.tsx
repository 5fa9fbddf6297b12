/**
 * The dashboard's home-monitoring section: people enrolled in device programmes and alerts
 * acknowledged within the target, in total, by month, and per province or facility (drill-down) —
 * the same figures as the CSV, XLSX and the MeasureReports (`device-enrolment`, `alerts-answered`).
 * Aggregates only: suppressed cells (1–4) come as null and are shown as "<5".
 */
import type { DeviceCells, DeviceIndicators as Figures } from '../../../../src/programme/contract.ts';
import { num, pct, tp } from '../../i18n-programme.ts';

function Row({ label, c }: { label: string; c: DeviceCells }) {
  return (
    <tr>
      <th>{label}</th>
      <td>{num(c.enrolled)}</td>
      <td>{num(c.newlyEnrolled)}</td>
      <td>{num(c.alerts)}</td>
      <td>{num(c.acknowledged)}</td>
      <td>{num(c.answeredInTime)}</td>
      <td>{pct(c.shareInTime)}</td>
    </tr>
  );
}

export function DeviceIndicators({ devices: x }: { devices: Figures }) {
  const d = tp();
  const head = (first: string) => (
    <thead>
      <tr>
        <th>{first}</th>
        <th>{d.enrolled}</th>
        <th>{d.newlyEnrolled}</th>
        <th>{d.alerts}</th>
        <th>{d.acknowledged}</th>
        <th>{d.answeredInTime(x.targetMinutes)}</th>
        <th>%</th>
      </tr>
    </thead>
  );
  return (
    <section data-testid="devices">
      <h2>{d.devices}</h2>
      <div class="kpis">
        <div class="card kpi">
          <span class="meta">{d.enrolled}</span>
          <strong data-testid="devices-enrolled">{num(x.enrolled)}</strong>
          <span>
            {d.newlyEnrolled}: {num(x.newlyEnrolled)}
          </span>
        </div>
        <div class="card kpi">
          <span class="meta">{d.answeredInTime(x.targetMinutes)}</span>
          <strong data-testid="alerts-in-time">{pct(x.shareInTime)}</strong>
          <span>
            {num(x.answeredInTime)}/{num(x.alerts)} · {d.escalated}: {num(x.escalated)}
          </span>
        </div>
      </div>
      <p class="hint">{d.devicesNote(x.targetMinutes)}</p>
      <div class="table-wrap">
        <table class="obs" data-testid="devices-months">
          {head(d.month)}
          <tbody>
            {x.byMonth.map((m) => (
              <Row key={m.month} label={m.month} c={m} />
            ))}
          </tbody>
        </table>
      </div>
      {x.provinces.length > 0 && (
        <div class="table-wrap">
          <table class="obs" data-testid="devices-provinces">
            {head(d.province)}
            <tbody>
              {x.provinces.map((p) => (
                <Row key={p.provinceCode} label={p.provinceName} c={p} />
              ))}
            </tbody>
          </table>
        </div>
      )}
      {x.facilities.length > 0 && (
        <div class="table-wrap">
          <table class="obs" data-testid="devices-facilities">
            {head(d.name)}
            <tbody>
              {x.facilities.map((f) => (
                <Row key={f.id} label={`${f.name} (${f.code})`} c={f} />
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
