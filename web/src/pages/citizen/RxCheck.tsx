/** The public prescription check (no account): what a pharmacy sees after scanning the QR code. */
import { useEffect, useState } from 'preact/hooks';
import { apiGet } from '../../api.ts';
import { formatDateTime, t } from '../../i18n.ts';
import type { PrescriptionCheck } from '../../../../src/visits/contract.ts';

/** What a pharmacy sees after scanning a prescription's QR code: authentic or not, never whose. */
export function RxCheck({ code }: { code: string }) {
  const d = t();
  const [r, setR] = useState<PrescriptionCheck>();
  const [error, setError] = useState<string>();
  useEffect(
    () => void apiGet<PrescriptionCheck>(`/api/prescriptions/${encodeURIComponent(code)}/verify`).then(setR, (e) => setError((e as Error).message)),
    [code],
  );
  return (
    <section class="citizen">
      <h1>
        {d.cz.rxCheck}{' '}
        <small>
          <code>{code}</code>
        </small>
      </h1>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      {r && (
        <div class="card">
          <p class={r.valid ? 'ok' : 'error'}>{r.valid ? d.cz.rxValid : d.cz.rxInvalid}</p>
          <dl class="facts">
            <dt>{d.cz.rxIssued}</dt>
            <dd>{formatDateTime(r.issuedAt)}</dd>
            <dt>{d.cz.rxItems}</dt>
            <dd>{r.items}</dd>
          </dl>
        </div>
      )}
    </section>
  );
}
