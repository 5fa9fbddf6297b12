/**
 * The citizen's own pages: who accessed my record, and whom I share it with. Request and answer
 * types come from the server's contracts (src/audit/contract.ts, src/consent/contract.ts).
 */
import type { Bundle, Organization } from '@medplum/fhirtypes';
import { useEffect, useState } from 'preact/hooks';
import type { AccessLogEntry } from '../../../src/audit/contract.ts';
import type { Consent, ConsentRequest } from '../../../src/consent/contract.ts';
import { apiGet, apiSend, entries, fhirGet } from '../api.ts';
import { formatDateTime, lang, t } from '../i18n.ts';
import { tz } from '../i18n-citizen.ts';
import { actionLabel, resourceLabel, systemReasonLabel } from '../../../src/audit/labels.ts';
import './citizen/citizen-extra.css';
import { path } from '../router.ts';
import { MemberSwitch, useFamily } from '../components/Family.tsx';
import { AccessHolders } from './citizen/AccessHolders.tsx';

/** Whose page this is: the citizen's own, or a managed family member's (`?patient=`). */
function useSubject(ownId: string, page: string) {
  const family = useFamily();
  const patientId = new URLSearchParams(path.value.split('?')[1] ?? '').get('patient') ?? ownId;
  const query = patientId === ownId ? '' : `patientId=${encodeURIComponent(patientId)}`;
  const switcher = <MemberSwitch family={family} current={patientId} to={(id) => (id === ownId ? page : `${page}?patient=${encodeURIComponent(id)}`)} />;
  return { patientId, query, switcher };
}

/** One side of the access log: who (name, role, facility), what (in words), when, and why. */
function AccessList({ items, empty }: { items: AccessLogEntry[]; empty: string }) {
  const d = t();
  const z = tz();
  if (!items.length) return <p class="notice">{empty}</p>;
  const what = (a: AccessLogEntry) => {
    const type = a.resourceType;
    // Never a bare code: the audit trail's own labels name any action or record type this page does not.
    const verb = d.actions[a.action] ?? d.actions[a.action.split('.')[0]] ?? actionLabel(a.action, lang.value);
    const typeName = type && (z.recordTypes[type] ?? resourceLabel(type, lang.value));
    return `${verb}${typeName ? ` ${lang.value === 'vi' ? typeName.charAt(0).toLowerCase() + typeName.slice(1) : typeName}` : ''}`;
  };
  return (
    <ul class="plain access-log">
      {items.map((a) => (
        <li key={a.id} class={a.breakGlass ? 'glass' : a.outcome !== 'success' ? 'denied' : ''}>
          <div>
            <strong>{formatDateTime(a.at)}</strong> · {what(a)}
            {a.outcome !== 'success' && <span class="error"> ({z.refused})</span>}
          </div>
          {/* Data the person's own action sent to an AI service (booking advice): where it went, in words. */}
          {a.self && a.action === 'cds.call' && a.reason && <div class="meta">{a.reason}</div>}
          {!a.self && (
            <div class="meta">
              {[a.whoName ?? a.app ?? (a.role ? undefined : z.system), a.roleLabel?.[lang.value], a.organizationName].filter(Boolean).join(' · ')}
            </div>
          )}
          {!a.self && (
            <div class="meta">
              {z.why}:{' '}
              {a.breakGlass ? (
                <strong class="badge">
                  {z.whyGlass} {a.reason}
                </strong>
              ) : // The platform's own work gives its reason in words; a person's reason is theirs.
              a.role ? (
                (a.reason ?? (a.role !== 'citizen' ? z.whyCare : ''))
              ) : (
                systemReasonLabel(a.reason ?? undefined, lang.value)
              )}
            </div>
          )}
        </li>
      ))}
    </ul>
  );
}

export function AccessLog({ ownId }: { ownId: string }) {
  const d = t();
  const z = tz();
  const { patientId, query, switcher } = useSubject(ownId, '/me/access-log');
  const [items, setItems] = useState<AccessLogEntry[]>();
  const [error, setError] = useState<string>();
  // A page holds up to 200 accesses by others (refused attempts and one's own actions have shares of
  // their own): a full page may have older entries, fetched before the oldest shown.
  const [more, setMore] = useState(false);
  const fetchPage = (before?: number) =>
    apiGet<AccessLogEntry[]>(`/api/me/access-log?${[query, before ? `before=${before}` : ''].filter(Boolean).join('&')}`).then(
      (page) => {
        setItems((shown) => [...(before ? (shown ?? []) : []), ...page]);
        setMore(page.filter((a) => !a.self && a.outcome === 'success').length >= 200);
      },
      (e) => setError((e as Error).message),
    );
  useEffect(() => {
    setItems(undefined);
    setError(undefined);
    void fetchPage();
  }, [patientId]);
  return (
    <section>
      <h1>{d.accessLogTitle}</h1>
      {switcher}
      <p class="hint">{d.accessLogHint}</p>
      {error && <p class="error">{error}</p>}
      {items === undefined ? (
        <p class="notice">{d.loading}</p>
      ) : (
        <>
          <h2>{z.othersTitle}</h2>
          <AccessList items={items.filter((a) => !a.self)} empty={z.othersEmpty} />
          {more && (
            <button type="button" onClick={() => void fetchPage(Math.min(...items.filter((a) => !a.self && a.outcome === 'success').map((a) => a.id)))}>
              {z.older}
            </button>
          )}
          <h2>{z.selfTitle}</h2>
          <AccessList items={items.filter((a) => a.self)} empty={z.selfEmpty} />
        </>
      )}
    </section>
  );
}

export function ConsentPage({ ownId }: { ownId: string }) {
  const d = t();
  const { patientId, query, switcher } = useSubject(ownId, '/me/consent');
  const forWhom = patientId === ownId ? {} : { patientId };
  const [consents, setConsents] = useState<Consent[]>([]);
  const [orgs, setOrgs] = useState<Organization[]>([]);
  const [error, setError] = useState<string>();
  const [version, setVersion] = useState(0);
  const load = async () => {
    setVersion((v) => v + 1);
    try {
      const [c, o] = await Promise.all([
        apiGet<Consent[]>(`/api/me/consents${query ? `?${query}` : ''}`),
        fhirGet<Bundle>('Organization?_count=200&_sort=name'),
      ]);
      setConsents(c);
      setOrgs(entries<Organization>(o));
    } catch (e) {
      setError((e as Error).message);
    }
  };
  useEffect(() => {
    setConsents([]);
    setError(undefined);
    void load();
  }, [patientId]);
  const orgName = (ref?: string) => orgs.find((o) => `Organization/${o.id}` === ref)?.name ?? ref ?? '—';
  const submit = async (e: Event) => {
    e.preventDefault();
    const f = new FormData(e.target as HTMLFormElement, (e as SubmitEvent).submitter);
    setError(undefined);
    try {
      await apiSend<Consent>('POST', '/api/me/consents', {
        purpose: 'treatment',
        decision: String(f.get('decision')) as ConsentRequest['decision'],
        organizationId: String(f.get('organizationId')),
        ...forWhom,
      } satisfies ConsentRequest);
      await load();
    } catch (err) {
      setError((err as Error).message);
    }
  };
  const research = consents.find((c) => c.status === 'active' && c.scope?.coding?.some((x) => x.code === 'research'));
  return (
    <section>
      <h1>{d.consentTitle}</h1>
      {switcher}
      <p class="hint">{d.consentHint}</p>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <form class="card consent-form" onSubmit={submit}>
        <label>
          {d.consentFacility}
          <select name="organizationId" required>
            {orgs.map((o) => (
              <option value={o.id} key={o.id}>
                {o.name}
              </option>
            ))}
          </select>
        </label>
        <div class="row">
          <button type="submit" name="decision" value="permit" class="primary">
            {d.shareWith}
          </button>
          <button type="submit" name="decision" value="deny">
            {d.blockFrom}
          </button>
        </div>
      </form>
      <section class="card">
        <label class="check">
          <input
            type="checkbox"
            checked={!!research}
            onChange={async (e) => {
              try {
                if ((e.target as HTMLInputElement).checked)
                  await apiSend<Consent>('POST', '/api/me/consents', { purpose: 'research', decision: 'permit', ...forWhom } satisfies ConsentRequest);
                else if (research) await apiSend<Consent>('POST', `/api/me/consents/${research.id}/withdraw`);
                await load();
              } catch (err) {
                setError((err as Error).message);
              }
            }}
          />{' '}
          {d.allowResearch}
        </label>
      </section>
      <AccessHolders query={query} version={version} />
      <ul class="consents">
        {consents
          .filter((c) => !c.scope?.coding?.some((x) => x.code === 'research'))
          .map((c) => (
            <li key={c.id} class="card">
              <strong>{c.provision?.type === 'permit' ? d.shareWith : d.blockFrom}</strong>
              <span>{c.provision?.actor?.map((a) => orgName(a.reference?.reference)).join(', ') ?? '—'}</span>
              <span class="meta">
                {formatDateTime(c.dateTime)} · {c.status === 'active' ? d.active : d.withdrawn}
              </span>
              {c.status === 'active' && (
                <button
                  type="button"
                  onClick={() => apiSend<Consent>('POST', `/api/me/consents/${c.id}/withdraw`).then(load, (e) => setError((e as Error).message))}
                >
                  {d.withdraw}
                </button>
              )}
            </li>
          ))}
      </ul>
    </section>
  );
}
