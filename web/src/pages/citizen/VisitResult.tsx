/** A visit's result: the note, diagnosis, reported values, the e-prescription (with its PDF) and the charge. */
import { t } from '../../i18n.ts';
import type { VisitView } from '../../../../src/visits/contract.ts';

/** The visit's result as the citizen sees it (also used on the clinician's page after the visit). */
export function VisitResult({ v }: { v: VisitView }) {
  const d = t();
  if (!v.note) return null;
  return (
    <section class="card result">
      <h2>{d.cz.note}</h2>
      {v.diagnosis?.length ? (
        <p>
          <strong>{d.cz.diagnosis}:</strong> {v.diagnosis.map((x) => `${x.code} ${x.display}`).join('; ')}
        </p>
      ) : null}
      {v.note.sections.map((s) => (
        <div key={s.title} class="note-section">
          <h3>{s.title}</h3>
          {s.text.split('\n').map((l, i) => (
            <p key={i}>{l}</p>
          ))}
        </div>
      ))}
      {v.reported?.length ? (
        <p>
          <strong>{d.cz.reported}:</strong> {v.reported.map((o) => `${o.text} ${o.value}`).join('; ')}
        </p>
      ) : null}
      {v.prescription && (
        <div class="rx">
          <h3>
            {d.cz.prescription} <code>{v.prescription.code}</code>
          </h3>
          <ol>
            {v.prescription.items.map((it, i) => (
              <li key={i}>
                <strong>{it.name}</strong> — {it.quantity} {it.unit}
                <br />
                {it.dosage}
                {it.days ? ` (${it.days} ngày)` : ''}
              </li>
            ))}
          </ol>
          <a class="button primary" href={`/api/prescriptions/${v.prescription.code}/pdf`} download>
            {d.cz.downloadRx}
          </a>
        </div>
      )}
      {v.charge && (
        <p class="meta">
          {d.cz.charge}: {d.cz.price(v.charge.price)} · {v.charge.payer === 'bhyt' ? d.cz.bhytCovered : d.cz.selfPay}
        </p>
      )}
    </section>
  );
}
