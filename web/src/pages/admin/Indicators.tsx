/**
 * The analyst's landing page until the indicators dashboard exists (its own issue builds it at
 * /indicators): a clear empty state that says so — never a permission error.
 */
import { ta } from '../../i18n-admin.ts';
import '../../admin.css';

export function IndicatorsPlaceholder() {
  const a = ta();
  return (
    <section class="card empty-state" aria-labelledby="ind-h">
      <svg viewBox="0 0 96 96" aria-hidden="true">
        <rect x="10" y="50" width="14" height="34" rx="3" fill="#b7d3c9" />
        <rect x="32" y="34" width="14" height="50" rx="3" fill="#7fb3a0" />
        <rect x="54" y="20" width="14" height="64" rx="3" fill="#0b6e4f" />
        <rect x="76" y="42" width="14" height="42" rx="3" fill="#b7d3c9" />
      </svg>
      <h1 id="ind-h">{a.indicatorsTitle}</h1>
      <p>
        <strong>{a.indicatorsEmpty}</strong>
      </p>
      <p>{a.indicatorsBody}</p>
      <p class="meta">{a.indicatorsNext}</p>
    </section>
  );
}
