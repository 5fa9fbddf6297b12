/**
 * The study's report: shown when signed; written (findings, impression, ICD-10), saved as a draft
 * and signed by a specialist at the hub. A signed report cannot be changed (the server refuses).
 */
import { useState } from 'preact/hooks';
import type { StudyView } from '../../../src/imaging/contract.ts';
import { apiSend } from '../api.ts';
import { formatDateTime } from '../i18n.ts';
import { ti } from '../i18n-imaging.ts';

export function ReportPanel({ view, canReport, onChanged }: { view: StudyView; canReport: boolean; onChanged: () => void }) {
  const l = ti();
  const r = view.report;
  const [message, setMessage] = useState<{ ok: boolean; text: string } | undefined>();
  const findings = r?.extension?.find((e) => e.url.endsWith('/imaging-findings'))?.valueString ?? '';
  const codes = (r?.conclusionCode ?? []).map((c) => c.coding?.[0]?.code).filter(Boolean) as string[];

  if (view.reportSigned && r)
    return (
      <section class="card" data-testid="report">
        <h2>{l.report}</h2>
        <p class="meta">
          {l.reportSigned} · {formatDateTime(r.issued)}
        </p>
        <h3>{l.findings}</h3>
        <p class="prewrap">{findings}</p>
        <h3>{l.impression}</h3>
        <p class="prewrap">{r.conclusion}</p>
        {codes.length > 0 && <p>ICD-10: {codes.join(', ')}</p>}
        <p class="meta">{l.signedNote}</p>
      </section>
    );
  if (!canReport)
    return (
      <section class="card" data-testid="report">
        <h2>{l.report}</h2>
        <p class="notice">{l.reportNone}</p>
      </section>
    );

  async function save(e: Event, sign: boolean) {
    e.preventDefault();
    const form = (e.target as HTMLElement).closest('form')!;
    const f = new FormData(form);
    const icd10 = String(f.get('icd10') ?? '')
      .split(',')
      .map((x) => x.trim().toUpperCase())
      .filter(Boolean)
      .map((code) => ({ code }));
    setMessage(undefined);
    try {
      await apiSend('PUT', `/api/imaging/studies/${view.study.id}/report`, { findings: f.get('findings'), impression: f.get('impression'), icd10 });
      if (sign) await apiSend('POST', `/api/imaging/studies/${view.study.id}/report/sign`);
      setMessage({ ok: true, text: l.saved });
      onChanged();
    } catch (err) {
      setMessage({ ok: false, text: (err as Error).message });
    }
  }

  return (
    <form class="card" data-testid="report-form" onSubmit={(e) => save(e, false)}>
      <h2>{l.report}</h2>
      <label>
        {l.findings}
        <textarea name="findings" rows={5} required maxLength={10000} value={findings} />
      </label>
      <label>
        {l.impression}
        <textarea name="impression" rows={3} required maxLength={4000} value={r?.conclusion ?? ''} />
      </label>
      <label>
        {l.icd10}
        <input name="icd10" value={codes.join(', ')} pattern="[A-Za-z][0-9]{2}(\.[0-9A-Za-z]{1,4})?(\s*,\s*[A-Za-z][0-9]{2}(\.[0-9A-Za-z]{1,4})?)*" />
      </label>
      {message && (
        <p class={message.ok ? 'notice' : 'error'} role={message.ok ? 'status' : 'alert'}>
          {message.text}
        </p>
      )}
      <div class="row">
        <button type="submit">{l.saveDraft}</button>
        <button type="button" class="primary" onClick={(e) => save(e, true)}>
          {l.sign}
        </button>
      </div>
    </form>
  );
}
