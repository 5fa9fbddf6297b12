/**
 * The consent page's "who can read this record now, and why" (GET /api/me/access-holders,
 * computed by the server with the access rules themselves: src/consent/holders.ts). Names,
 * facility and role in words; an emergency access shows its reason and when it ends.
 */
import { useEffect, useState } from 'preact/hooks';
import type { AccessHolder } from '../../../../src/consent/contract.ts';
import { apiGet } from '../../api.ts';
import { formatDateTime, lang } from '../../i18n.ts';
import { tz } from '../../i18n-citizen.ts';

/** `query`: '' for the citizen's own record, `patientId=…` for a managed family member; `version` reloads after a change. */
export function AccessHolders({ query, version }: { query: string; version: number }) {
  const z = tz();
  const [holders, setHolders] = useState<AccessHolder[]>();
  const [error, setError] = useState<string>();
  useEffect(() => {
    setError(undefined);
    apiGet<AccessHolder[]>(`/api/me/access-holders${query ? `?${query}` : ''}`).then(setHolders, (e) => setError((e as Error).message));
  }, [query, version]);
  return (
    <section class="card access-holders" aria-labelledby="holders-title">
      <h2 id="holders-title">{z.holdersTitle}</h2>
      <p class="hint">{z.holdersHint}</p>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {holders && holders.length === 0 && <p class="notice">{z.holdersEmpty}</p>}
      {holders && holders.length > 0 && (
        <ul class="holders">
          {holders.map((h, i) => (
            <li key={i} class={`holder holder-${h.basis}${h.blocked ? ' blocked' : ''}`}>
              <strong>{h.everyFacility ? z.everyFacility : h.name}</strong>
              <span class="basis">
                {z.basis[h.basis]}
                {h.relation ? ` — ${z.managerIs[h.relation]}` : ''}
              </span>
              {(h.roles?.length || h.facility) && (
                <span class="meta">{[h.roles?.map((r) => (lang.value === 'en' ? r.en : r.vi)).join(', '), h.facility].filter(Boolean).join(' · ')}</span>
              )}
              {h.kinds && h.kinds.length > 0 && <span class="meta">{h.kinds.map((k) => z.careKinds[k] ?? k).join(', ')}</span>}
              {h.basis === 'break-glass' && (
                <span class="meta">
                  {z.glassReason} {h.reason} — {z.glassUntil(formatDateTime(h.expiresAt))}
                </span>
              )}
              {h.blocked && <span class="warn">{z.blockedNote}</span>}
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
