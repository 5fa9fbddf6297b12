/**
 * The sections of the clinician's chart (GET /api/chart/:id), each saying so when it is empty:
 * the allergy banner (top, prominent), medicines, problems, encounters and remote visits,
 * documents, case conferences with conclusions, open alerts, care programmes, family managers.
 */
import type { ComponentChildren } from 'preact';
import type { Chart } from '../../../../src/chart/contract.ts';
import { formatDate, formatDateTime, lang } from '../../i18n.ts';
import { tc } from '../../i18n-clinic.ts';

function Section({ title, empty, n, children, id }: { title: string; empty: string; n: number; children: ComponentChildren; id: string }) {
  return (
    <section class="card chart-section" aria-labelledby={`sec-${id}`}>
      <h2 id={`sec-${id}`}>
        {title} {n > 0 && <span class="count-badge">{n}</span>}
      </h2>
      {n === 0 ? <p class="notice empty">{empty}</p> : children}
    </section>
  );
}

/** Allergies at the very top: red when any is recorded, calm when none is. */
export function AllergyBanner({ chart }: { chart: Chart }) {
  const c = tc();
  if (!chart.allergies.length) {
    return (
      <section class="allergy-banner none" aria-label={c.allergiesTitle}>
        <strong>{c.allergiesTitle}:</strong> {c.noAllergies}
      </section>
    );
  }
  return (
    <section class="allergy-banner" role="alert" aria-label={c.allergyWarning}>
      <h2>⚠ {c.allergyWarning}</h2>
      <ul>
        {chart.allergies.map((a) => (
          <li key={a.id}>
            <strong>{a.substance}</strong>
            {a.codes.length > 0 && <code> {a.codes.join(', ')}</code>}
            {a.criticality && <span class={`crit ${a.criticality}`}> · {c.criticality[a.criticality] ?? a.criticality}</span>}
            {a.type === 'intolerance' && <span> · {c.intolerance}</span>}
            {a.reactions.length > 0 && (
              <span>
                {' '}
                — {c.reactions}: {a.reactions.join(', ')}
              </span>
            )}
            {a.recordedDate && <span class="meta"> ({formatDate(a.recordedDate)})</span>}
          </li>
        ))}
      </ul>
    </section>
  );
}

export function ChartSections({ chart }: { chart: Chart }) {
  const c = tc();
  const openCases = chart.consults.filter((x) => x.open);
  const pastCases = chart.consults.filter((x) => !x.open);
  return (
    <div class="chart-grid">
      <Section id="meds" title={c.medicationsTitle} empty={c.noMedications} n={chart.medications.length}>
        <ul class="plain">
          {chart.medications.map((m) => (
            <li key={m.id}>
              <strong>{m.name}</strong>
              {m.atc && <code> {m.atc}</code>}
              {m.dosage && <div>{m.dosage}</div>}
              <div class="meta">
                {m.since && `${c.since} ${formatDate(m.since)}`}
                {m.by && ` · ${m.by}`}
                {m.prescription && ` · ${m.prescription}`}
              </div>
            </li>
          ))}
        </ul>
      </Section>
      <Section id="problems" title={c.problemsTitle} empty={c.noProblems} n={chart.problems.length}>
        <ul class="plain">
          {chart.problems.map((p) => (
            <li key={p.id}>
              {p.code && <code>{p.code}</code>} {p.display}
              <span class="meta">
                {p.status === 'active' ? ` · ${c.problemActive}` : p.status === 'resolved' ? ` · ${c.problemResolved}` : ''}
                {p.since && ` · ${c.since} ${formatDate(p.since)}`}
              </span>
            </li>
          ))}
        </ul>
      </Section>
      <Section id="alerts" title={c.alertsTitle} empty={c.noAlerts} n={chart.alerts.length}>
        <ul class="plain">
          {chart.alerts.map((a) => (
            <li key={a.id} class={a.severity === 'severe' ? 'severe' : ''}>
              <a href="/alerts">{a.text}</a> <span class="meta">{formatDateTime(a.since)}</span>
            </li>
          ))}
        </ul>
      </Section>
      <Section id="consults" title={c.consultsTitle} empty={c.noConsults} n={chart.consults.length}>
        {[
          [c.openConsult, openCases],
          [c.pastConsult, pastCases],
        ].map(([label, list]) =>
          (list as Chart['consults']).length ? (
            <div key={label as string}>
              <h3>{label as string}</h3>
              <ul class="plain">
                {(list as Chart['consults']).map((k) => (
                  <li key={k.caseId}>
                    <a href={`/consults/${k.caseId}`}>{k.question || k.specialty || c.untitledConsult}</a>
                    <span class="meta">
                      {' '}
                      · {k.stateLabel[lang.value]}
                      {k.asked && ` · ${formatDate(k.asked)}`}
                    </span>
                    {k.conclusion && (
                      <details>
                        <summary>
                          {c.conclusion} ({k.conclusion.signed ? c.signed : c.draft}
                          {k.conclusion.date && `, ${formatDate(k.conclusion.date)}`})
                        </summary>
                        <p class="pre">{k.conclusion.text}</p>
                      </details>
                    )}
                  </li>
                ))}
              </ul>
            </div>
          ) : null,
        )}
      </Section>
      <Section id="encounters" title={c.encountersTitle} empty={c.noEncounters} n={chart.encounters.length}>
        <ul class="plain">
          {chart.encounters.map((e) => (
            <li key={e.id}>
              <strong>{formatDate(e.date)}</strong> · {e.kind === 'remote' ? c.remoteVisit : (e.type ?? c.visitAt)}
              {e.facility && <span> · {e.facility}</span>}
              {e.diagnosis && <div class="meta">{e.diagnosis}</div>}
            </li>
          ))}
        </ul>
      </Section>
      <Section id="appointments" title={c.appointmentsTitle} empty={c.noAppointments} n={chart.appointments.length}>
        <ul class="plain">
          {chart.appointments.map((a) => (
            <li key={a.id}>
              <a href={`/visits/${a.id}`}>{formatDateTime(a.start)}</a> · {a.service}
              <span class="meta">
                {' '}
                · {c.appointmentStatus[a.status] ?? a.status}
                {a.practitioner && ` · ${a.practitioner}`}
              </span>
            </li>
          ))}
        </ul>
      </Section>
      <Section id="docs" title={c.documentsTitle} empty={c.noDocuments} n={chart.documents.length}>
        <ul class="plain">
          {chart.documents.map((doc) => (
            <li key={doc.id}>
              {doc.link ? (
                <a href={doc.link} target="_blank" rel="noopener">
                  {doc.title}
                </a>
              ) : (
                doc.title
              )}{' '}
              <span class="meta">{formatDate(doc.date)}</span>
            </li>
          ))}
        </ul>
      </Section>
      <Section id="programmes" title={c.programmesTitle} empty={c.noProgrammes} n={chart.programmes.length}>
        <ul class="plain">
          {chart.programmes.map((p, i) => (
            <li key={i}>
              {p.kind === 'careplan' ? p.label : <a href="/programmes">{p.label}</a>}
              <span class="meta">
                {p.since && ` · ${c.since} ${formatDate(p.since)}`}
                {p.detail && ` · ${p.detail}`}
              </span>
            </li>
          ))}
        </ul>
      </Section>
      <Section id="family" title={c.familyTitle} empty={c.noFamily} n={chart.familyManagers.length}>
        <ul class="plain">
          {chart.familyManagers.map((f) => (
            <li key={f.id}>
              {f.name}
              {f.relationship && <span class="meta"> · {f.relationship}</span>}
            </li>
          ))}
        </ul>
      </Section>
    </div>
  );
}
