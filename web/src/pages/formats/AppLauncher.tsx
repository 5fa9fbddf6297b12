/**
 * SMART EHR launch from a patient's chart: the apps registered with a launch address; choosing one
 * asks the server for a one-time launch (POST /api/smart/launch) and opens the app with iss and
 * launch in a new tab. Hidden when no app is registered.
 */
import { useEffect, useState } from 'preact/hooks';
import { ApiError, apiGet, apiSend } from '../../api.ts';
import { tf } from '../../i18n-formats.ts';
import type { SmartApp, SmartLaunchResponse } from '../../../../src/auth/contract.ts';

export function AppLauncher({ patientId }: { patientId: string }) {
  const d = tf();
  const [apps, setApps] = useState<SmartApp[]>([]);
  const [error, setError] = useState<string>();
  useEffect(() => {
    apiGet<SmartApp[]>('/api/smart/apps')
      .then(setApps)
      .catch(() => setApps([]));
  }, []);
  if (!apps.length) return null;
  const open = async (clientId: string) => {
    setError(undefined);
    // Opened before the request so a pop-up blocker sees the click.
    const tab = window.open('about:blank', '_blank');
    try {
      const r = await apiSend<SmartLaunchResponse>('POST', '/api/smart/launch', { clientId, patientId });
      if (tab) tab.location.href = r.launchUrl;
      else location.assign(r.launchUrl);
    } catch (e) {
      tab?.close();
      setError(`${d.openAppFailed}: ${e instanceof ApiError ? e.message : String(e)}`);
    }
  };
  return (
    <div class="app-launcher" role="group" aria-label={d.openApp}>
      <span>{d.openApp}:</span>
      {apps.map((a) => (
        <button key={a.clientId} type="button" onClick={() => void open(a.clientId)}>
          {a.name}
        </button>
      ))}
      {error && <p class="error">{error}</p>}
    </div>
  );
}
