/**
 * The consent screen of SMART App Launch (/apps/authorize?request=…): the app's name, where the
 * browser goes back to, and every scope it asks for in words (web/src/i18n-formats.ts). Allow or
 * refuse; the server answers with the address to go back to (src/auth/smart.ts).
 */
import { useEffect, useState } from 'preact/hooks';
import { ApiError, apiGet, apiSend } from '../../api.ts';
import { scopeText, tf } from '../../i18n-formats.ts';
import type { SmartDecisionResponse, SmartRequestView } from '../../../../src/auth/contract.ts';

export function AppConsent({ request }: { request: string }) {
  const d = tf();
  const [view, setView] = useState<SmartRequestView | null | undefined>(undefined);
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    apiGet<SmartRequestView>(`/api/smart/requests/${encodeURIComponent(request)}`)
      .then(setView)
      .catch(() => setView(null));
  }, [request]);
  if (view === undefined) return null;
  if (view === null) return <p class="error">{d.consentGone}</p>;
  const decide = async (allow: boolean) => {
    setBusy(true);
    try {
      const r = await apiSend<SmartDecisionResponse>('POST', `/api/smart/requests/${encodeURIComponent(view.id)}/decision`, { allow });
      location.assign(r.redirect);
    } catch (e) {
      setBusy(false);
      setError(e instanceof ApiError ? e.message : d.consentGone);
    }
  };
  const other = view.scopes.filter((s) => d.scopeLabels[s]);
  return (
    <section class="card app-consent" aria-labelledby="consent-title">
      <h1 id="consent-title">{d.consentTitle}</h1>
      <p class="lead">{d.consentAsks(view.app.name)}</p>
      <p>{d.consentWants}</p>
      <ul class="scopes">
        {view.clinical.map((s, i) => (
          <li key={`c${i}`}>{scopeText(s)}</li>
        ))}
        {other.map((s) => (
          <li key={s}>{d.scopeLabels[s]}</li>
        ))}
      </ul>
      <p class="meta">{d.consentReturnsTo(view.app.redirectHost)}</p>
      <p class="meta">{d.consentNote}</p>
      {error && <p class="error">{error}</p>}
      <div class="actions">
        <button class="primary" disabled={busy} onClick={() => void decide(true)}>
          {d.allow}
        </button>
        <button disabled={busy} onClick={() => void decide(false)}>
          {d.refuse}
        </button>
      </div>
      {busy && <p class="notice">{d.redirecting}</p>}
    </section>
  );
}
