/**
 * What to do now, shown the moment a citizen enters a dangerous home reading (blood pressure at or
 * above 180/110) or says they have emergency signs: call 115 or go to the station — not wait for
 * the remote visit.
 */
import { tz } from '../../i18n-citizen.ts';

export function DangerAdvice({ bp, redFlags }: { bp?: string; redFlags?: boolean }) {
  const z = tz();
  if (!bp && !redFlags) return null;
  return (
    <section class="danger-advice" role="alert">
      <h2>{bp ? z.dangerTitle : z.redFlagTitle}</h2>
      {bp && <p>{z.dangerBp(bp)}</p>}
      {bp ? (
        <ol>
          {z.dangerDo.map((x) => (
            <li key={x}>{x}</li>
          ))}
        </ol>
      ) : (
        <p>{z.redFlagDo}</p>
      )}
      <a class="button danger big" href="tel:115">
        {z.call115}
      </a>
    </section>
  );
}
