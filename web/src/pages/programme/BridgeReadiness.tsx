/**
 * A site's bridge-point readiness on the facility screen: its last check (camera, microphone,
 * bandwidth down/up, round trip, whether TURN was needed), its last successful check and its last
 * real session (a meeting joined or a remote examination held). Staff of the site run the check
 * here from the room's equipment (bridge-check.ts); the server stores it for their own facility.
 */
import { useEffect, useState } from 'preact/hooks';
import { apiGet } from '../../api.ts';
import { formatDate, formatDateTime, t } from '../../i18n.ts';
import { tp } from '../../i18n-programme.ts';
import type { ReadinessView } from '../../../../src/programme/contract.ts';
import { bitRate } from '../room/PreCall.tsx';
import { runBridgeCheck } from './bridge-check.ts';

export function BridgeReadiness({ orgId, canCheck }: { orgId: string; canCheck: boolean }) {
  const d = tp();
  const g = t();
  const [view, setView] = useState<ReadinessView>();
  const [error, setError] = useState<string>();
  const [running, setRunning] = useState(false);
  const [saved, setSaved] = useState(false);
  const load = () => apiGet<ReadinessView>(`/api/programme/readiness/${encodeURIComponent(orgId)}`).then(setView, (e) => setError((e as Error).message));
  useEffect(() => {
    void load();
  }, [orgId]);
  const run = async () => {
    setRunning(true);
    setError(undefined);
    setSaved(false);
    try {
      await runBridgeCheck();
      setSaved(true);
      await load();
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setRunning(false);
    }
  };
  const c = view?.lastCheck;
  const yn = (b: boolean) => (b ? d.yes : d.no);
  return (
    <div class="card readiness" data-testid={`readiness-${orgId}`}>
      <h2>{d.readiness}</h2>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {!view ? (
        <p class="notice">{g.loading}</p>
      ) : (
        <dl class="checks">
          <dt>{d.lastGoodCheck}</dt>
          <dd data-testid="last-good-check">{view.lastSuccessfulCheck ? formatDateTime(view.lastSuccessfulCheck) : d.notYet}</dd>
          <dt>{d.lastSession}</dt>
          <dd data-testid="last-session">{view.lastSession ? formatDate(view.lastSession) : d.notYet}</dd>
          <dt>{d.lastCheck}</dt>
          <dd data-testid="last-check">
            {c ? (
              <>
                {formatDateTime(c.at)} · <strong>{c.ok ? d.checkOk : d.checkBad}</strong>
                <br />
                {d.cameraCheck}: {yn(c.camera)} · {d.micCheck}: {yn(c.microphone)} · {d.download}: {c.downKbps ? bitRate(c.downKbps) : '—'} · {d.upload}:{' '}
                {c.upKbps ? bitRate(c.upKbps) : '—'} · {d.rtt}: {c.rttMs !== undefined ? `${c.rttMs} ms` : '—'} ·{' '}
                <span data-testid="turn">{c.turn ? d.turnNeeded : d.turnNotNeeded}</span>
              </>
            ) : (
              d.noCheck
            )}
          </dd>
        </dl>
      )}
      {canCheck && (
        <p class="actions">
          <button type="button" onClick={() => void run()} disabled={running}>
            {running ? g.loading : d.runCheck}
          </button>
          {saved && <span class="hint"> {d.checkSaved}</span>}
        </p>
      )}
    </div>
  );
}
