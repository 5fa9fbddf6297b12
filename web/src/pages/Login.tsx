/**
 * Sign-in: password, then the second factor for staff (or first-time enrolment with a QR code).
 * Request and answer types come from the server's contract (src/auth/contract.ts, type-only import).
 */
import { useState } from 'preact/hooks';
import type { CodeRequest, LoginRequest, LoginResult, MfaEnrolled, MfaEnrolment, Ok } from '../../../src/auth/contract.ts';
import { apiSend, ApiError } from '../api.ts';
import { t } from '../i18n.ts';
import { navigate, path } from '../router.ts';
import { csrfToken, loadMe } from '../session.ts';

type Stage = 'password' | 'mfa' | 'enrol' | 'recovery';

function nextUrl(): string {
  const next = new URLSearchParams(path.value.split('?')[1] ?? '').get('next');
  return next && next.startsWith('/') && !next.startsWith('//') ? next : '/';
}

async function finish(): Promise<void> {
  const m = await loadMe();
  const next = nextUrl();
  // OAuth authorization continues on the server; everything else is a page of this app.
  if (next.startsWith('/oauth/')) location.href = next;
  else navigate(next === '/' && m?.kind === 'citizen' ? '/me' : next);
}

export function Login() {
  const d = t();
  const [stage, setStage] = useState<Stage>('password');
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const [enrol, setEnrol] = useState<MfaEnrolment>();
  const [recovery, setRecovery] = useState<string[]>([]);

  const run = async (fn: () => Promise<void>) => {
    setBusy(true);
    setError(undefined);
    try {
      await fn();
    } catch (e) {
      setError(e instanceof ApiError ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };

  const onPassword = (e: Event) => {
    e.preventDefault();
    const f = new FormData(e.target as HTMLFormElement);
    void run(async () => {
      const r = await apiSend<LoginResult>('POST', '/api/auth/login', {
        username: String(f.get('username')).trim().toLowerCase(),
        password: String(f.get('password')),
      } satisfies LoginRequest);
      csrfToken.value = r.csrfToken;
      if (r.status === 'mfa-required') setStage('mfa');
      else if (r.status === 'enrolment-required') {
        setEnrol(await apiSend<MfaEnrolment>('POST', '/api/auth/mfa/enrol'));
        setStage('enrol');
      } else await finish();
    });
  };

  const onCode = (e: Event) => {
    e.preventDefault();
    const code = String(new FormData(e.target as HTMLFormElement).get('code')).trim();
    void run(async () => {
      if (stage === 'mfa') {
        await apiSend<Ok>('POST', '/api/auth/mfa', { code } satisfies CodeRequest);
        await finish();
      } else {
        const r = await apiSend<MfaEnrolled>('POST', '/api/auth/mfa/enrol/confirm', { code } satisfies CodeRequest);
        setRecovery(r.recoveryCodes);
        setStage('recovery');
      }
    });
  };

  return (
    <section class="login card">
      {stage === 'password' && (
        <form onSubmit={onPassword}>
          <h1>{d.login}</h1>
          <p class="hint">{d.loginHint}</p>
          <label>
            {d.username}
            <input name="username" autoComplete="username" autoCapitalize="none" required maxLength={64} />
          </label>
          <label>
            {d.password}
            <input name="password" type="password" autoComplete="current-password" required maxLength={256} />
          </label>
          <button type="submit" class="primary" disabled={busy}>
            {d.login}
          </button>
        </form>
      )}
      {(stage === 'mfa' || stage === 'enrol') && (
        <form onSubmit={onCode}>
          <h1>{stage === 'mfa' ? d.mfaTitle : d.enrolTitle}</h1>
          <p class="hint">{stage === 'mfa' ? d.mfaHint : d.enrolHint}</p>
          {stage === 'enrol' && enrol && (
            <div class="qr">
              <div class="qr-img" dangerouslySetInnerHTML={{ __html: enrol.qrSvg }} />
              <p class="hint">
                {d.enrolKey} <code>{enrol.secret}</code>
              </p>
            </div>
          )}
          <label>
            {d.code}
            <input name="code" inputMode="numeric" autoComplete="one-time-code" required maxLength={20} autoFocus />
          </label>
          <button type="submit" class="primary" disabled={busy}>
            {d.verify}
          </button>
        </form>
      )}
      {stage === 'recovery' && (
        <div>
          <h1>{d.recoveryTitle}</h1>
          <p class="hint">{d.recoveryHint}</p>
          <ul class="recovery">
            {recovery.map((c) => (
              <li key={c}>
                <code>{c}</code>
              </li>
            ))}
          </ul>
          <button type="button" class="primary" onClick={() => void finish()}>
            {d.continueLabel}
          </button>
        </div>
      )}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}
