/**
 * What a clinician sees when a patient's record is refused: why, in plain Vietnamese (never a raw
 * permission code), and — when the server says emergency access would open it — the
 * break-the-glass form right there (reason required; the grant is time-limited, audited and
 * reviewed by the data-protection officer).
 */
import { useState } from 'preact/hooks';
import type { BreakGlassGrant, BreakGlassRequest } from '../../../../src/auth/contract.ts';
import { apiSend, type ApiError } from '../../api.ts';
import { t } from '../../i18n.ts';
import { tc } from '../../i18n-clinic.ts';
import { me } from '../../session.ts';

export function AccessRefused({ patientId, error, onOpened }: { patientId: string; error: ApiError; onOpened: (g: BreakGlassGrant) => void }) {
  const d = t();
  const c = tc();
  const [problem, setProblem] = useState<string>();
  const [busy, setBusy] = useState(false);
  const why = error.status === 404 ? c.refusedNotFound : error.breakGlass ? c.refusedOtherFacility : c.refusedNoRight;
  return (
    <section class="card refused" role="alert" aria-labelledby="refused-title">
      <h1 id="refused-title">{c.refusedTitle}</h1>
      <p class="error">{why}</p>
      {error.breakGlass && (
        <form
          class="break-glass"
          aria-label={d.breakGlassTitle}
          onSubmit={async (e) => {
            e.preventDefault();
            const reason = String(new FormData(e.target as HTMLFormElement).get('reason') ?? '').trim();
            if (reason.length < 10) return setProblem(d.breakGlassReason);
            setBusy(true);
            try {
              onOpened(await apiSend<BreakGlassGrant>('POST', '/api/break-glass', { patientId, reason } satisfies BreakGlassRequest));
            } catch (err) {
              setProblem((err as Error).message);
            } finally {
              setBusy(false);
            }
          }}
        >
          <h2>{d.breakGlassTitle}</h2>
          <p>{c.breakGlassOffer}</p>
          <p class="meta">{c.breakGlassFacts}</p>
          <label>
            {d.breakGlassReason}
            <textarea name="reason" required minLength={10} maxLength={500} rows={3} />
          </label>
          {problem && (
            <p class="error" role="alert">
              {problem}
            </p>
          )}
          <div class="row">
            <button type="submit" class="danger" disabled={busy}>
              {d.breakGlassOpen}
            </button>
            <a href="/patients" class="button">
              {c.backToSearch}
            </a>
          </div>
        </form>
      )}
      {!error.breakGlass && (
        <p>
          {/* A citizen has no patient search: back to their own record. */}
          {me.value?.role === 'citizen' ? (
            <a href="/me" class="button">
              {c.backToOwnRecord}
            </a>
          ) : (
            <a href="/patients" class="button">
              {c.backToSearch}
            </a>
          )}
        </p>
      )}
    </section>
  );
}
