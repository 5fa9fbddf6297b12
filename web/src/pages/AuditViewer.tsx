/**
 * The data-protection officer's view of the audit trail, with a chain check; its table also shows
 * a citizen's access log. Answer types come from the server's contract (src/audit/contract.ts).
 */
import { useEffect, useState } from 'preact/hooks';
import type { AccessLogEntry, AuditEntry, AuditView, ChainCheck } from '../../../src/audit/contract.ts';
import { apiGet } from '../api.ts';
import { formatDateTime, lang, t } from '../i18n.ts';

/** A row of the table: an officer's entry (with the patients touched) or a citizen's (whether it was them). */
export type AuditItem = AuditView & Partial<Pick<AuditEntry, 'patients'> & Pick<AccessLogEntry, 'self'>>;

/** The action's own label; else its area's label with the code (staff need exact codes); else the code. */
function actionLabel(labels: Record<string, string>, action: string): string {
  const area = labels[action.split('.')[0]];
  return labels[action] ?? (area ? `${area} · ${action}` : action);
}

export function AuditTable({ items, showPatients }: { items: AuditItem[]; showPatients: boolean }) {
  const d = t();
  return (
    <div class="table-wrap">
      <table class="obs audit">
        <thead>
          <tr>
            <th>{d.date}</th>
            <th>{d.who}</th>
            <th>{d.action}</th>
            <th>{d.reason}</th>
          </tr>
        </thead>
        <tbody>
          {items.map((a) => (
            <tr key={a.id} class={a.breakGlass ? 'glass' : a.outcome !== 'success' ? 'denied' : ''}>
              <td>{formatDateTime(a.at)}</td>
              <td>
                {a.self ? <em>{d.you}</em> : a.who}
                {a.roleLabel && <span class="meta"> · {a.roleLabel[lang.value]}</span>}
              </td>
              <td>
                {actionLabel(d.actions, a.action)}
                {a.resource && <span class="meta"> {a.resource.split('/')[0]}</span>}
                {a.outcome !== 'success' && <span class="meta"> ({a.outcome})</span>}
                {showPatients && a.patients?.length ? <span class="meta"> · {a.patients.length} người bệnh</span> : null}
              </td>
              <td>
                {a.breakGlass && <strong class="badge">{d.emergency}</strong>} {a.reason ?? ''}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function AuditViewer() {
  const d = t();
  const [items, setItems] = useState<AuditEntry[]>([]);
  const [glassOnly, setGlassOnly] = useState(false);
  const [verify, setVerify] = useState<string>();
  const [error, setError] = useState<string>();
  useEffect(() => {
    apiGet<AuditEntry[]>(`/api/audit?limit=200${glassOnly ? '&breakGlass=true' : ''}`).then(setItems, (e) => setError((e as Error).message));
  }, [glassOnly]);
  return (
    <section>
      <h1>{d.auditTitle}</h1>
      <div class="toolbar">
        <label class="check">
          <input type="checkbox" checked={glassOnly} onChange={(e) => setGlassOnly((e.target as HTMLInputElement).checked)} /> {d.onlyBreakGlass}
        </label>
        <button
          type="button"
          onClick={async () => {
            const r = await apiGet<ChainCheck>('/api/audit/verify');
            setVerify(r.ok ? d.auditOk(r.checked) : d.auditBroken(r.firstBad!.chainPos, r.firstBad!.problem));
          }}
        >
          {d.auditVerify}
        </button>
      </div>
      {verify && (
        <p class={verify.startsWith('CHUỖI') || verify.startsWith('AUDIT CHAIN TAMPERED') ? 'error' : 'ok'} role="status">
          {verify}
        </p>
      )}
      {error && <p class="error">{error}</p>}
      <AuditTable items={items} showPatients />
    </section>
  );
}
