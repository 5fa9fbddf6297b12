/**
 * My health record (or a managed family member's): the member switcher, facts, quick actions
 * (book, download PDF or FHIR), then allergies, conditions, medications, vital-sign charts,
 * documents, immunizations and the record's timeline. Mobile first: one column, large targets.
 */
import { tc } from '../../i18n-clinic.ts';
import { useEffect, useState } from 'preact/hooks';
import { apiGet } from '../../api.ts';
import { formatDate, t } from '../../i18n.ts';
import { VitalsChart, type Series } from '../../components/VitalsChart.tsx';
import { MemberSwitch, useFamily } from '../../components/Family.tsx';
import type { HealthRecord } from '../../../../src/visits/contract.ts';
import { dedupe, query } from './shared.ts';

/** My health record: a member switcher, facts, quick actions, then what matters most first. */
export function MyRecord({ ownId }: { ownId: string }) {
  const d = t();
  const family = useFamily();
  const patientId = query().get('patient') ?? ownId;
  const [rec, setRec] = useState<HealthRecord>();
  const [error, setError] = useState<string>();
  useEffect(() => {
    setRec(undefined);
    setError(undefined);
    apiGet<HealthRecord>(`/api/me/record?patientId=${encodeURIComponent(patientId)}`).then(setRec, (e) => setError((e as Error).message));
  }, [patientId]);
  if (error)
    return (
      <p class="error" role="alert">
        {error}
      </p>
    );
  if (!rec) return <p class="notice">{d.loading}</p>;
  const q = `patientId=${encodeURIComponent(patientId)}`;
  const bp = rec.vitals.filter((v) => v.code === '85354-9' && v.values.length === 2);
  const hr = rec.vitals.filter((v) => v.code === '8867-4');
  const bpSeries: Series[] = [
    { label: d.cz.systolic, color: '#b3261e', points: bp.map((v) => ({ t: Date.parse(v.t), v: v.values[0] })) },
    { label: d.cz.diastolic, color: '#1f6f5c', points: bp.map((v) => ({ t: Date.parse(v.t), v: v.values[1] })) },
  ];
  return (
    <section class="citizen">
      <MemberSwitch family={family} current={patientId} to={(id) => (id === ownId ? '/me' : `/me?patient=${id}`)} />
      <h1>
        {rec.patient.name}
        <small>{d.cz.recordTitle}</small>
      </h1>
      <dl class="facts card">
        {rec.patient.birthDate && (
          <>
            <dt>{d.birthDate}</dt>
            <dd>{formatDate(rec.patient.birthDate)}</dd>
          </>
        )}
        {rec.patient.cccd && (
          <>
            <dt>{d.cccd}</dt>
            <dd>{rec.patient.cccd}</dd>
          </>
        )}
        {rec.patient.bhytCard && (
          <>
            <dt>{d.bhyt}</dt>
            <dd>{rec.patient.bhytCard}</dd>
          </>
        )}
        {rec.patient.address && (
          <>
            <dt>{d.address}</dt>
            <dd>{rec.patient.address}</dd>
          </>
        )}
      </dl>
      <div class="actions">
        <a class="button primary" href={`/me/book?patient=${encodeURIComponent(patientId)}`}>
          {d.cz.bookVisit}
        </a>
        <a class="button" href={`/api/me/record/pdf?${q}`} download>
          {d.cz.downloadPdf}
        </a>
        <a class="button" href={`/api/me/record/fhir?${q}`} download>
          {d.cz.downloadFhir}
        </a>
      </div>
      {rec.allergies.length === 0 && (
        <section class="card">
          <h2>{d.cz.allergies}</h2>
          <p class="notice">{tc().noAllergies}</p>
        </section>
      )}
      {rec.allergies.length > 0 && (
        <section class="card alert-card">
          <h2>{d.cz.allergies}</h2>
          <ul>
            {rec.allergies.map((a, i) => (
              <li key={i}>
                <strong>{a.substance}</strong>
                {a.reaction ? `: ${a.reaction}` : ''}
              </li>
            ))}
          </ul>
        </section>
      )}
      <section class="card">
        <h2>{d.cz.conditions}</h2>
        {rec.conditions.length ? (
          <ul class="conditions">
            {dedupe(rec.conditions.map((c) => `${c.code ? `${c.code} ` : ''}${c.display}`)).map((c) => (
              <li key={c}>{c}</li>
            ))}
          </ul>
        ) : (
          <p class="notice">{d.cz.none}</p>
        )}
      </section>
      <section class="card">
        <h2>{d.cz.medications}</h2>
        {rec.medications.length ? (
          <ul>
            {rec.medications.map((m, i) => (
              <li key={i}>
                <strong>{m.name}</strong>
                {m.dosage ? ` — ${m.dosage}` : ''} <span class="meta">{formatDate(m.since)}</span>
              </li>
            ))}
          </ul>
        ) : (
          <p class="notice">{d.cz.none}</p>
        )}
      </section>
      {bp.length === 0 && hr.length === 0 && (
        <section class="card">
          <h2>{d.cz.vitals}</h2>
          <p class="notice">{d.cz.none}</p>
        </section>
      )}
      {(bp.length > 0 || hr.length > 0) && (
        <section class="card">
          <h2>{d.cz.vitals}</h2>
          {bp.length > 0 && (
            <>
              <h3>{d.cz.bloodPressure} (mmHg)</h3>
              <div class="chart">
                <VitalsChart series={bpSeries} unit="mmHg" />
              </div>
            </>
          )}
          {hr.length > 0 && (
            <>
              <h3>{d.cz.heartRate} (/phút)</h3>
              <div class="chart">
                <VitalsChart
                  series={[{ label: d.cz.heartRate, color: '#6b4fa0', points: hr.map((v) => ({ t: Date.parse(v.t), v: v.values[0] })) }]}
                  unit="/min"
                />
              </div>
            </>
          )}
        </section>
      )}
      <section class="card">
        <h2>{d.cz.documents}</h2>
        {rec.documents.length ? (
          <ul class="docs">
            {rec.documents.map((doc) => (
              <li key={doc.id}>
                {doc.link ? (
                  <a href={doc.link} download>
                    {doc.title}
                  </a>
                ) : (
                  <span>{doc.title}</span>
                )}{' '}
                <span class="meta">{formatDate(doc.date)}</span>
              </li>
            ))}
          </ul>
        ) : (
          <p class="notice">{d.cz.none}</p>
        )}
      </section>
      <section class="card">
        <h2>{d.cz.immunizations}</h2>
        {rec.immunizations.length ? (
          <ul>
            {rec.immunizations.map((i, k) => (
              <li key={k}>
                {i.vaccine} <span class="meta">{formatDate(i.date)}</span>
              </li>
            ))}
          </ul>
        ) : (
          <p class="notice">{d.cz.none}</p>
        )}
      </section>
      <section class="card">
        <h2>{d.cz.timeline}</h2>
        <ol class="timeline">
          {rec.timeline.map((item) => (
            <li key={item.ref} class={`tl-${item.kind}`}>
              <time>{formatDate(item.date)}</time>
              <span class="kind">{d.cz.kinds[item.kind] ?? item.kind}</span>
              <strong>{item.title}</strong>
              {item.detail && <span> — {item.detail}</span>}
              {item.by && <span class="meta"> · {item.by}</span>}
            </li>
          ))}
        </ol>
      </section>
    </section>
  );
}
