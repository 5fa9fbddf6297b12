/** Case lists: what my facility asked, what waits for us (triage queue), what is assigned to me, overdue follow-ups. */
import { useEffect, useState } from 'preact/hooks';
import type { CaseRow, FollowUpRow, QueueRow } from '../../../src/consult/contract.ts';
import { apiGet } from '../api.ts';
import { formatDateTime, lang, t } from '../i18n.ts';
import { LiveEventStream } from '../live.ts';
import { pendingCount, refreshPending } from '../outbox.ts';
import { me } from '../session.ts';

/** A row of any of the lists (case list, triage queue, overdue follow-ups). */
type Row = Partial<CaseRow & QueueRow & FollowUpRow>;

type Tab = 'requested' | 'queue' | 'assigned' | 'received' | 'follow-ups';

export function ConsultList() {
  const d = t();
  const role = me.value?.role ?? '';
  const tabs: [Tab, string][] = [
    ...(role === 'commune_clinician' || role === 'specialist'
      ? ([
          ['requested', d.tabRequested],
          ['follow-ups', d.tabFollowUps],
        ] as [Tab, string][])
      : []),
    ...(role === 'specialist' || role === 'coordinator'
      ? ([
          ['queue', d.tabQueue],
          ['received', d.tabReceived],
        ] as [Tab, string][])
      : []),
    ...(role === 'specialist' ? ([['assigned', d.tabAssigned]] as [Tab, string][]) : []),
  ];
  const [tab, setTab] = useState<Tab>(tabs[0]?.[0] ?? 'requested');
  const [rows, setRows] = useState<Row[]>();
  const [error, setError] = useState<string>();
  useEffect(() => {
    void refreshPending();
    setRows(undefined);
    const url = tab === 'follow-ups' ? '/api/consults/follow-ups' : `/api/consults?view=${tab}`;
    apiGet<Row[]>(url).then(setRows, (e) => setError((e as Error).message));
  }, [tab]);
  useEffect(() => {
    const live = new LiveEventStream()
      .on('consult.new', () => tab === 'queue' && apiGet<Row[]>('/api/consults?view=queue').then(setRows))
      .on('consult.state', () => apiGet<Row[]>(tab === 'follow-ups' ? '/api/consults/follow-ups' : `/api/consults?view=${tab}`).then(setRows));
    return () => live.close();
  }, [tab]);
  return (
    <section>
      <h1>{d.consultsTitle}</h1>
      <div class="toolbar">
        {role === 'coordinator' && (
          <a class="button" href="/meetings/new">
            {d.newMeeting}
          </a>
        )}
      </div>
      {pendingCount.value > 0 && <p class="notice">{d.pendingOffline(pendingCount.value)}</p>}
      <div class="tabs" role="tablist">
        {tabs.map(([k, label]) => (
          <button type="button" role="tab" aria-selected={tab === k} class={tab === k ? 'tab active' : 'tab'} key={k} onClick={() => setTab(k)}>
            {label}
          </button>
        ))}
      </div>
      {error && <p class="error">{error}</p>}
      {rows === undefined ? (
        <p class="notice">{d.loading}</p>
      ) : rows.length === 0 ? (
        <p class="notice">{d.none}</p>
      ) : (
        <ul class="patient-list">
          {rows.map((r) => (
            <li key={r.caseId}>
              <a class={`patient-card urgency-${r.urgency ?? 'routine'}`} href={`/consults/${r.caseId}`}>
                <span class="patient-name">
                  {r.urgency && <span class={`badge u-${r.urgency}`}>{d.urgencies[r.urgency]}</span>} {r.patient ?? '—'}
                </span>
                <span class="meta">
                  {r.specialty} · {r.reason} · {r.stateLabel?.[lang.value] ?? ''}
                </span>
                <span class="meta">
                  {r.authoredOn && formatDateTime(r.authoredOn)}
                  {r.waitingMinutes !== undefined && ` · ${d.waiting(r.waitingMinutes)}`}
                  {r.overdue && <strong class="error"> · {d.overdue}</strong>}
                  {r.due && ` · ${formatDateTime(r.due)} (${r.overdueDays} ngày)`}
                </span>
              </a>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
