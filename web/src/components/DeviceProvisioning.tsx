/**
 * A device's set-up, shown once after registering it or renewing its secret: a QR code carrying
 * the broker address, client id, user name and secret and its topics (JSON), and the same as text
 * to copy for a device without a camera. The secret is not kept anywhere after this page.
 * (qrcode is loaded here, when a code is drawn, not with the app.)
 */
import { useEffect, useState } from 'preact/hooks';
import type { DeviceProvisioning as Provisioning } from '../../../src/devices/contract.ts';
import { tc } from '../i18n-clinic.ts';
import { t } from '../i18n.ts';

export function DeviceProvisioning({ p }: { p: Provisioning }) {
  const d = t();
  const c = tc();
  const text = JSON.stringify(p, null, 2);
  const [svg, setSvg] = useState<string>();
  const [copied, setCopied] = useState(false);
  useEffect(() => {
    void import('qrcode')
      .then(({ default: QRCode }) => QRCode.toString(JSON.stringify(p), { type: 'svg', errorCorrectionLevel: 'M', margin: 1 }))
      .then(setSvg, () => setSvg(undefined));
  }, [text]);
  return (
    <section class="provisioning" role="status" aria-label={c.provisionTitle}>
      <h3>{c.provisionTitle}</h3>
      <p>{d.tokenOnce}</p>
      {svg && <div class="qr" role="img" aria-label={c.provisionQr} dangerouslySetInnerHTML={{ __html: svg }} />}
      <dl class="facts">
        <dt>{c.broker}</dt>
        <dd>
          <code>{p.broker ?? c.noBroker}</code>
        </dd>
        <dt>{c.clientId}</dt>
        <dd>
          <code>{p.clientId}</code>
        </dd>
        <dt>{c.secret}</dt>
        <dd>
          <code class="secret">{p.password}</code>
        </dd>
        <dt>{c.topic}</dt>
        <dd>
          <code>{p.readingsTopic}</code>
        </dd>
        <dt>HTTP</dt>
        <dd>
          <code>{p.httpUrl}</code>
        </dd>
      </dl>
      <label>
        {c.copyFallback}
        <textarea readOnly rows={9} value={text} class="mono" />
      </label>
      <button
        type="button"
        onClick={async () => {
          await navigator.clipboard?.writeText(text).catch(() => undefined);
          setCopied(true);
        }}
      >
        {copied ? c.copied : c.copy}
      </button>
    </section>
  );
}
