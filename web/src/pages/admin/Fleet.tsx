/**
 * The device fleet of the administrator's facility (GET /api/devices/fleet): each device with its
 * patient (named only where the viewer may see the record), last message, refused messages in the
 * last 7 days and its state; disabling one (POST /api/devices/:id/disable) after a confirmation.
 */
import { useEffect, useState } from 'preact/hooks';
import type { FleetDevice, FleetView } from '../../../../src/devices/contract.ts';
import { apiGet, apiSend } from '../../api.ts';
import { formatDateTime, t } from '../../i18n.ts';
import { ta } from '../../i18n-admin.ts';

export function FleetTab() {
  const a = ta();
  const d = t();
  const [view, setView] = useState<FleetView>();
  const [error, setError] = useState<string>();
  const [done, setDone] = useState<string>();
  const load = () => apiGet<FleetView>('/api/devices/fleet').then(setView, (e) => setError((e as Error).message));
  useEffect(() => void load(), []);
  const disable = async (x: FleetDevice) => {
    if (!confirm(a.fleetConfirm(x.name))) return;
    setError(undefined);
    try {
      await apiSend('POST', `/api/devices/${encodeURIComponent(x.id)}/disable`);
      setDone(a.fleetDisabled(x.name));
      await load();
    } catch (e) {
      setError((e as Error).message);
    }
  };
  return (
    <section aria-labelledby="fleet-h" class="fleet">
      <h2 id="fleet-h">
        {a.fleetTitle}
        {view?.facility ? ` — ${view.facility}` : ''}
      </h2>
      <p class="hint">{a.fleetHint}</p>
      <a class="button" href="/devices">
        {a.devicesOpen}
      </a>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {done && (
        <p class="notice" role="status">
          {done}
        </p>
      )}
      {!view && !error && <p class="notice">{d.loading}</p>}
      {view && view.devices.length === 0 && <p class="notice">{a.fleetEmpty}</p>}
      {view && view.devices.length > 0 && (
        <div class="table-wrap">
          <table class="fleet-table">
            <caption class="sr-only">{a.fleetTitle}</caption>
            <thead>
              <tr>
                <th scope="col">{a.fleetDevice}</th>
                <th scope="col">{a.fleetPatient}</th>
                <th scope="col">{a.fleetLast}</th>
                <th scope="col">{a.fleetState}</th>
                <th scope="col">
                  <span class="sr-only">{a.fleetActions}</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {view.devices.map((x) => (
                <tr key={x.id} class={`fleet-${x.state}`}>
                  <td>
                    <strong>{x.name}</strong>
                    <div class="meta">
                      {x.type} · {a.fleetSerial} {x.serial}
                    </div>
                  </td>
                  <td>{x.shared ? a.fleetShared : x.patientHidden ? a.fleetPatientHidden : x.patient}</td>
                  <td>
                    {x.lastMessageAt ? formatDateTime(x.lastMessageAt) : a.fleetNever}
                    <div class="meta">
                      {a.fleetMessages(x.messages)}
                      {x.quarantined7d > 0 && <span class="warn"> · {a.fleetRefused(x.quarantined7d)}</span>}
                    </div>
                  </td>
                  <td>
                    <span class={`badge fleet-state-${x.state}`}>{a.fleetStates[x.state]}</span>
                  </td>
                  <td>
                    {x.state !== 'disabled' && (
                      <button type="button" class="danger" onClick={() => void disable(x)}>
                        {a.fleetDisable}
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );
}
