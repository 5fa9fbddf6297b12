/**
 * Prescribing safety warnings on the visit note: each allergy or duplicate-medicine warning with
 * a required reason to prescribe anyway (the reason is written into the record with the
 * prescription). Shown above the save button; saving is refused until every reason is given.
 */
import type { PrescribingIssue } from '../../../src/visits/contract.ts';
import { tc } from '../i18n-clinic.ts';

export function PrescribingWarnings({
  issues,
  reasons,
  onReason,
}: {
  issues: PrescribingIssue[];
  reasons: Record<string, string>;
  onReason: (key: string, reason: string) => void;
}) {
  const c = tc();
  if (!issues.length) return null;
  const missing = issues.some((i) => (reasons[i.key] ?? '').trim().length < 5);
  return (
    <section id="rx-warnings" class="rx-warnings" role="alert" aria-labelledby="rx-warnings-title">
      <h3 id="rx-warnings-title">⚠ {c.safetyTitle}</h3>
      <ul>
        {issues.map((i) => (
          <li key={i.key} class={i.severity}>
            <p>
              <strong>{i.kind === 'allergy' ? c.allergyIssue(i.drug, i.against) : c.duplicateIssue(i.drug, i.against)}</strong>
            </p>
            <p class="meta">{i.text}</p>
            <label>
              {c.overrideReason}
              <textarea
                rows={2}
                required
                minLength={5}
                maxLength={500}
                value={reasons[i.key] ?? ''}
                onInput={(e) => onReason(i.key, (e.target as HTMLTextAreaElement).value)}
              />
            </label>
          </li>
        ))}
      </ul>
      <p class={missing ? 'error' : 'meta'}>{missing ? c.reasonNeeded : c.overrideHint}</p>
    </section>
  );
}
