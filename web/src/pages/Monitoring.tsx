/** Remote monitoring: the alerts inbox (live), devices, and the chronic-disease registers. */
import { useEffect, useState } from 'preact/hooks';
import { apiGet, apiSend } from '../api.ts';
import { formatDate, formatDateTime, t } from '../i18n.ts';
import { LiveEventStream } from '../live.ts';
import { path } from '../router.ts';
import type { Me } from '../session.ts';
import type {
  AlertItem,
  DeviceListItem,
  DeviceProvisioning as DeviceProvisioningInfo,
  DeviceType,
  ProgrammeKind,
  ProgrammeResponse,
  RegisterDeviceBody,
  RegisterDeviceResponse,
  RotateResponse,
} from '../../../src/devices/contract.ts';
import { DeviceProvisioning } from '../components/DeviceProvisioning.tsx';
import { PatientPicker } from '../components/PatientPicker.tsx';
import { tc } from '../i18n-clinic.ts';
import './chart/chart.css';

const valueText = (metric: string, v: Record<string, number>) =>
  metric === 'bp'
    ? `${v.systolic}/${v.diastolic} mmHg`
    : metric === 'glucose'
      ? `${v.mmol} mmol/L`
      : metric === 'spo2'
        ? `${v.value}%`
        : metric === 'temp'
          ? `${v.value}°C`
          : `${v.value}`;

export function AlertsInbox() {
  const d = t();
  const [alerts, setAlerts] = useState<AlertItem[]>();
  const [error, setError] = useState<string>();
  const load = () => apiGet<AlertItem[]>('/api/alerts').then(setAlerts, (e) => setError((e as Error).message));
  useEffect(() => {
    void load();
    const live = new LiveEventStream();
    for (const k of ['alert.opened', 'alert.worse', 'alert.closed', 'alert.acknowledged', 'alert.escalated'] as const) live.on(k, () => void load());
    return () => live.close();
  }, []);
  return (
    <section>
      <h1>{d.alertsTitle}</h1>
      {error && <p class="error">{error}</p>}
      {alerts === undefined ? (
        <p class="notice">{d.loading}</p>
      ) : alerts.length === 0 ? (
        <p class="notice">{d.noAlerts}</p>
      ) : (
        <ul class="patient-list alerts">
          {alerts.map((a) => (
            <li key={a.id} class={`alert sev-${a.severity}`} data-alert={a.id}>
              <a href={`/patients/${a.patientId}`} class="patient-name">
                {a.patient}
              </a>
              <span>
                <span class={`badge sev-${a.severity}`}>{d.severity[a.severity]}</span> {d.metrics[a.metric]}:{' '}
                <strong>{valueText(a.metric, a.lastValue)}</strong>
              </span>
              <span class="meta">
                {d.since} {formatDateTime(a.openedAt)}
                {a.acknowledgedAt && ` · ${d.acknowledged}`}
                {a.escalatedAt && ` · ${d.escalated}`}
              </span>
              {!a.acknowledgedAt && (
                <button type="button" onClick={() => apiSend('POST', `/api/alerts/${a.id}/acknowledge`).then(load)}>
                  {tc().ackAlert}
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

export function Devices() {
  const d = t();
  const patient = new URLSearchParams(path.value.split('?')[1] ?? '').get('patient') ?? '';
  const [list, setList] = useState<DeviceListItem[]>([]);
  const [types, setTypes] = useState<Partial<Record<DeviceType, string>>>({});
  const [setup, setSetup] = useState<DeviceProvisioningInfo>();
  const [patientId, setPatientId] = useState<string>();
  const [error, setError] = useState<string>();
  const [shared, setShared] = useState(!patient);
  const load = () => apiGet<DeviceListItem[]>('/api/devices').then(setList, (e) => setError((e as Error).message));
  useEffect(() => {
    void load();
    void apiGet<Record<DeviceType, string>>('/api/devices/types').then(setTypes);
  }, []);
  return (
    <section>
      <h1>{d.devicesTitle}</h1>
      <form
        class="card"
        onSubmit={async (e) => {
          e.preventDefault();
          const f = new FormData(e.target as HTMLFormElement);
          setError(undefined);
          try {
            const body: RegisterDeviceBody = {
              type: String(f.get('type')) as DeviceType,
              name: String(f.get('name') ?? ''),
              serial: String(f.get('serial') ?? ''),
              ...(shared ? { organizationId: (await apiGet<Me>('/api/auth/me')).organizationId } : { patientId: patientId ?? '' }),
            };
            if (!shared && !patientId) return setError(tc().pickPatientHint);
            const r = await apiSend<RegisterDeviceResponse>('POST', '/api/devices', body);
            setSetup(r.provisioning);
            await load();
          } catch (err) {
            setError((err as Error).message);
          }
        }}
      >
        <h2>{d.registerDevice}</h2>
        <label>
          {d.deviceType}
          <select name="type">
            {Object.entries(types).map(([k, v]) => (
              <option value={k} key={k}>
                {v}
              </option>
            ))}
          </select>
        </label>
        <label>
          {d.deviceName}
          <input name="name" required maxLength={200} />
        </label>
        <label>
          {d.serial}
          <input name="serial" required maxLength={100} />
        </label>
        <label class="check">
          <input type="checkbox" checked={shared} onChange={(e) => setShared((e.target as HTMLInputElement).checked)} /> {d.bindStation}
        </label>
        {!shared && <PatientPicker label={tc().pickPatient} hint={tc().pickPatientHint} initialId={patient || undefined} onChange={setPatientId} />}
        <button type="submit" class="primary">
          {d.registerDevice}
        </button>
        {setup && <DeviceProvisioning p={setup} />}
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
      </form>
      <ul class="patient-list">
        {list.map((x) => (
          <li key={x.id} class="patient-card">
            <span class="patient-name">
              {x.deviceName?.[0]?.name}{' '}
              <span class="meta">
                {x.type?.text} · {x.identifier?.[0]?.value}
              </span>
            </span>
            <span class="meta">
              {x.patient?.reference ?? d.bindStation} · <code>{x.id}</code> {x.revoked && <strong class="error">· {d.revoked}</strong>}
            </span>
            {!x.revoked && (
              <span class="row">
                <button type="button" onClick={() => apiSend<RotateResponse>('POST', `/api/devices/${x.id}/rotate`).then((r) => setSetup(r.provisioning))}>
                  {d.rotate}
                </button>
                <button type="button" class="danger" onClick={() => apiSend('POST', `/api/devices/${x.id}/revoke`).then(load)}>
                  {d.revoke}
                </button>
              </span>
            )}
          </li>
        ))}
      </ul>
    </section>
  );
}

export function Programmes() {
  const d = t();
  const [kind, setKind] = useState<ProgrammeKind>('hypertension');
  const [rows, setRows] = useState<ProgrammeResponse['rows']>();
  useEffect(() => {
    setRows(undefined);
    void apiGet<ProgrammeResponse>(`/api/programmes/${kind}`).then((r) => setRows(r.rows));
  }, [kind]);
  return (
    <section>
      <h1>{d.programmesTitle}</h1>
      <div class="tabs" role="tablist">
        {(['hypertension', 'diabetes'] as ProgrammeKind[]).map((k) => (
          <button type="button" role="tab" aria-selected={kind === k} class={kind === k ? 'tab active' : 'tab'} key={k} onClick={() => setKind(k)}>
            {d[k]}
          </button>
        ))}
      </div>
      {rows === undefined ? (
        <p class="notice">{d.loading}</p>
      ) : (
        <div class="table-wrap">
          <table class="obs">
            <thead>
              <tr>
                <th>{d.name}</th>
                <th>{d.lastReading}</th>
                <th>{d.controlled}</th>
                <th>{d.overdueReading}</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r) => (
                <tr key={r.patientId}>
                  <td>
                    <a href={`/patients/${r.patientId}`}>{r.name}</a> <span class="meta">{formatDate(r.birthDate)}</span>
                  </td>
                  <td>{r.lastReading ? `${r.lastReading.text} · ${formatDate(r.lastReading.at)}` : '—'}</td>
                  <td>{r.controlled === undefined ? '—' : r.controlled ? d.controlled : <strong class="error">{d.notControlled}</strong>}</td>
                  <td>{r.overdue ? <strong class="error">{d.yes}</strong> : d.no}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
