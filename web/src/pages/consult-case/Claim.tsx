/**
 * The receiving (hub) facility's part of a concluded case conference as a health-insurance claim
 * (QĐ 130/4750): whether it can be signed (and, if not, what is missing, in words), the signed XML
 * to download, "sign and send" to the BHXH gateway, and where the sending is (status, the
 * gateway's transaction code). Routes: /api/claims/consults/:id (src/formats/routes.ts).
 *
 * Rules: shown only to the receiving facility's staff whose role holds `claims.submit` (the case
 * page decides); the server checks the facility and permission again and audits. Column codes of
 * the national template are named in words where known, with the code beside them.
 */
import { useEffect, useState } from 'preact/hooks';
import type { ClaimView } from '../../../../src/formats/contract.ts';
import { apiGet, apiSend } from '../../api.ts';
import { formatDateTime, lang } from '../../i18n.ts';
import { tf } from '../../i18n-formats.ts';
import { Notices } from '../../components/Notices.tsx';

export function ConsultClaim({ caseId }: { caseId: string }) {
  const d = tf();
  const [claim, setClaim] = useState<ClaimView>();
  const [error, setError] = useState<string>();
  const [message, setMessage] = useState<string>();
  const [busy, setBusy] = useState(false);
  const url = `/api/claims/consults/${encodeURIComponent(caseId)}`;
  const load = () => apiGet<ClaimView>(url).then(setClaim, (e) => setError((e as Error).message));
  useEffect(() => void load(), [caseId]);

  const send = async () => {
    setBusy(true);
    setError(undefined);
    try {
      await apiSend('POST', `${url}/submit`);
      setMessage(d.claimQueued);
      await load();
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };

  const s = claim?.submission;
  return (
    <section class="card claim" aria-labelledby="claim-title">
      <h2 id="claim-title">{d.claimTitle}</h2>
      <Notices error={error} message={message} />
      {claim && claim.ready && <p class="ok">{d.claimReady}</p>}
      {claim && !claim.ready && (
        <>
          <p class="error">{d.claimMissing}</p>
          <ul class="claim-problems">
            {claim.problems.map((p, i) => (
              <li key={i}>
                <strong>{d.claimColumns[p.column] ?? p.column}</strong> ({p.table}, <code>{p.column}</code>): {d.claimProblems[p.problem] ?? p.problem}
                {problemDetail(p) && <span class="meta"> — {problemDetail(p)}</span>}
              </li>
            ))}
          </ul>
        </>
      )}
      {claim && claim.tables.length > 0 && <p class="meta">{d.claimTables(claim.tables.join(', '))}</p>}
      {claim?.ready && (
        <p class="actions">
          <a class="button secondary" href={`${url}/xml?doc=envelope`} download>
            {d.claimDownload}
          </a>{' '}
          {!s && (
            <button type="button" onClick={send} disabled={busy}>
              {d.claimSend}
            </button>
          )}
        </p>
      )}
      {s && (
        <dl class="claim-status">
          <dt>{d.claimStatus}</dt>
          <dd>
            {d.claimStatuses[s.status] ?? s.status} · {formatDateTime(s.updatedAt)} · {d.claimAttempts(s.attempts)}
          </dd>
          {s.transactionCode && (
            <>
              <dt>{d.claimTransaction}</dt>
              <dd>
                <code>{s.transactionCode}</code>
              </dd>
            </>
          )}
          {s.lastError && <dd class="error">{s.lastError}</dd>}
        </dl>
      )}
    </section>
  );
}

/**
 * The server's detail of a problem, for people: a length limit in the page's language; otherwise the
 * server's own words (English, for API clients) only on the English page — the Vietnamese page
 * names the column and the problem, which is what the person has to fix.
 */
function problemDetail(p: ClaimView['problems'][number]): string | undefined {
  const max = p.problem === 'too-long' ? /^max (\d+)$/.exec(p.detail ?? '') : null;
  if (max) return tf().claimMax(Number(max[1]));
  return lang.value === 'en' ? p.detail : undefined;
}
