import type { Bundle, Condition, Observation, Organization, Patient } from '@medplum/fhirtypes';
import { useEffect, useMemo, useState } from 'preact/hooks';
import type { BreakGlassGrant, BreakGlassRequest } from '../../../src/auth/contract.ts';
import { apiSend, ApiError, entries, fhirGet } from '../api.ts';
import { VitalsChart, type Series } from '../components/VitalsChart.tsx';
import { addressText, ageOf, BHYT_SYSTEM, CCCD_SYSTEM, conceptText, displayName, genderLabel, identifier, quantityText } from '../fhir-format.ts';
import { formatDate, formatDateTime, t } from '../i18n.ts';
import { LiveEventStream } from '../live.ts';
import { me } from '../session.ts';
import { FamilyLinkForm } from '../components/FamilyLink.tsx';
import { ChartImaging } from '../imaging/ChartImaging.tsx';

const ETHNICITY_EXT = 'https://fhir.cauyte.vn/StructureDefinition/ethnicity';

/** The vital signs we chart, by LOINC code. Blood pressure draws its two components. */
const CHARTS: { key: string; code: string; unit: string; components?: { code: string; label: 'systolic' | 'diastolic'; color: string }[]; color: string }[] = [
  {
    key: 'bp',
    code: '85354-9',
    unit: 'mmHg',
    color: '#b3261e',
    components: [
      { code: '8480-6', label: 'systolic', color: '#b3261e' },
      { code: '8462-4', label: 'diastolic', color: '#1f5fa8' },
    ],
  },
  { key: 'hr', code: '8867-4', unit: '/phút', color: '#b3261e' },
  { key: 'spo2', code: '59408-5', unit: '%', color: '#1f5fa8' },
  { key: 'temp', code: '8310-5', unit: '°C', color: '#c25e00' },
  { key: 'weight', code: '29463-7', unit: 'kg', color: '#0b6e4f' },
  { key: 'glucose', code: '15074-8', unit: 'mmol/L', color: '#6a3d9a' },
];

const codeOf = (o: Observation) => o.code.coding?.find((c) => c.system === 'http://loinc.org')?.code;
const timeOf = (o: Observation) => o.effectiveDateTime ?? o.effectivePeriod?.start ?? o.issued;

function valueText(o: Observation): string {
  if (o.valueQuantity) return quantityText(o.valueQuantity);
  if (o.component?.length)
    return o.component.map((c) => quantityText(c.valueQuantity).replace(/ \S+$/, '')).join('/') + ` ${o.component[0].valueQuantity?.unit ?? ''}`;
  if (o.valueString) return o.valueString;
  return conceptText(o.valueCodeableConcept);
}

/** Asks for a reason and opens a time-limited emergency access to this patient's record. */
function BreakGlassDialog({ patientId, onOpened }: { patientId: string; onOpened: () => void }) {
  const d = t();
  const [error, setError] = useState<string>();
  return (
    <form
      class="card dialog"
      aria-label={d.breakGlassTitle}
      onSubmit={async (e) => {
        e.preventDefault();
        const reason = String(new FormData(e.target as HTMLFormElement).get('reason'));
        try {
          await apiSend<BreakGlassGrant>('POST', '/api/break-glass', { patientId, reason } satisfies BreakGlassRequest);
          onOpened();
        } catch (err) {
          setError((err as Error).message);
        }
      }}
    >
      <h2>{d.breakGlassTitle}</h2>
      <p>{d.breakGlassHint}</p>
      <label>
        {d.breakGlassReason}
        <textarea name="reason" required minLength={10} maxLength={500} rows={3} />
      </label>
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <div class="row">
        <button type="submit" class="danger">
          {d.breakGlassOpen}
        </button>
        <a href="/patients" class="button">
          {d.cancel}
        </a>
      </div>
    </form>
  );
}

export function PatientChart({ id, own = false }: { id: string; own?: boolean }) {
  const d = t();
  const [data, setData] = useState<{
    patient?: Patient;
    org?: Organization;
    conditions: Condition[];
    observations: Observation[];
    error?: string;
    breakGlass?: boolean;
    loading: boolean;
  }>({ conditions: [], observations: [], loading: true });
  const [chartKey, setChartKey] = useState('bp');
  const [attempt, setAttempt] = useState(0);

  useEffect(() => {
    let live = true;
    (async () => {
      try {
        const [pb, cb, ob] = await Promise.all([
          fhirGet<Bundle>(`Patient?_id=${encodeURIComponent(id)}&_include=Patient:organization`),
          fhirGet<Bundle>(`Condition?patient=${encodeURIComponent(id)}&_sort=-recorded-date&_count=200`),
          fhirGet<Bundle>(`Observation?patient=${encodeURIComponent(id)}&_sort=-date&_count=1000`),
        ]);
        const patient = entries<Patient>(pb, 'Patient')[0];
        if (!live) return;
        if (!patient) throw new Error(d.notFound);
        setData({
          patient,
          org: entries<Organization>(pb, 'Organization')[0],
          conditions: entries<Condition>(cb),
          observations: entries<Observation>(ob),
          loading: false,
        });
      } catch (e) {
        if (live) setData({ conditions: [], observations: [], loading: false, error: (e as Error).message, breakGlass: e instanceof ApiError && e.breakGlass });
      }
    })();
    return () => {
      live = false;
    };
  }, [id, attempt]);
  // Live vitals: new device readings for this patient reload the chart.
  useEffect(() => {
    if (own) return;
    const live = new LiveEventStream().on('observation.new', (e) => {
      if (e.patientId === id) setAttempt((a) => a + 1);
    });
    return () => live.close();
  }, [id]);

  const available = useMemo(() => CHARTS.filter((c) => data.observations.some((o) => codeOf(o) === c.code)), [data.observations]);
  const chart = available.find((c) => c.key === chartKey) ?? available[0];
  const series = useMemo<Series[]>(() => {
    if (!chart) return [];
    const obs = data.observations.filter((o) => codeOf(o) === chart.code && timeOf(o));
    if (chart.components) {
      return chart.components.map((c) => ({
        label: d[c.label],
        color: c.color,
        points: obs.flatMap((o) => {
          const v = o.component?.find((k) => k.code.coding?.some((x) => x.code === c.code))?.valueQuantity?.value;
          return v === undefined ? [] : [{ t: Date.parse(timeOf(o)!), v }];
        }),
      }));
    }
    return [
      {
        label: conceptText(obs[0]?.code),
        color: chart.color,
        points: obs.flatMap((o) => (o.valueQuantity?.value === undefined ? [] : [{ t: Date.parse(timeOf(o)!), v: o.valueQuantity.value }])),
      },
    ];
  }, [chart, data.observations, d]);

  if (data.loading) return <p class="notice">{d.loading}</p>;
  if (data.breakGlass) return <BreakGlassDialog patientId={id} onOpened={() => setAttempt(attempt + 1)} />;
  if (data.error || !data.patient) {
    return (
      <p class="error" role="alert">
        {d.errorPrefix}
        {data.error}{' '}
        <button type="button" onClick={() => setAttempt(attempt + 1)}>
          {d.retry}
        </button>
      </p>
    );
  }
  const p = data.patient;
  const age = ageOf(p.birthDate);
  const ethnicity = p.extension?.find((e) => e.url === ETHNICITY_EXT)?.valueCoding?.display;
  return (
    <article class="chart-page">
      {!own && (
        <a href="/patients" class="back">
          {d.back}
        </a>
      )}
      <h1>
        {displayName(p.name)} <small>{d.chartTitle}</small>
      </h1>
      {!own && me.value?.role !== 'coordinator' && (
        <div class="row">
          <a class="button" href={`/consults/new?patient=${p.id}`}>
            {d.requestConsult}
          </a>
          <a class="button" href={`/devices?patient=${p.id}`}>
            {d.navDevices}
          </a>
        </div>
      )}
      <section class="card">
        <h2>{d.demographics}</h2>
        <dl class="facts">
          <dt>{d.gender}</dt>
          <dd>{genderLabel(p.gender)}</dd>
          <dt>{d.birthDate}</dt>
          <dd>
            {formatDate(p.birthDate)}
            {age !== undefined ? ` (${d.age(age)})` : ''}
          </dd>
          <dt>{d.cccd}</dt>
          <dd>{identifier(p.identifier, CCCD_SYSTEM) ?? '—'}</dd>
          <dt>{d.bhyt}</dt>
          <dd>{identifier(p.identifier, BHYT_SYSTEM) ?? '—'}</dd>
          {ethnicity && (
            <>
              <dt>{d.ethnicity}</dt>
              <dd>{ethnicity}</dd>
            </>
          )}
          <dt>{d.address}</dt>
          <dd>{addressText(p) || '—'}</dd>
          <dt>{d.phone}</dt>
          <dd>{p.telecom?.find((x) => x.system === 'phone')?.value ?? '—'}</dd>
          <dt>{d.facility}</dt>
          <dd>{data.org?.name ?? p.managingOrganization?.display ?? '—'}</dd>
        </dl>
      </section>
      <section class="card">
        <h2>{d.conditions}</h2>
        {data.conditions.length === 0 ? (
          <p class="notice">{d.noConditions}</p>
        ) : (
          <ul class="conditions">
            {data.conditions.map((c) => {
              const icd = c.code?.coding?.find((x) => x.system === 'http://hl7.org/fhir/sid/icd-10');
              return (
                <li key={c.id}>
                  {icd && <code>{icd.code}</code>} {conceptText(c.code)}
                  <span class="meta"> · {formatDate(c.recordedDate ?? c.onsetDateTime)}</span>
                </li>
              );
            })}
          </ul>
        )}
      </section>
      <section class="card">
        <h2>{d.observations}</h2>
        {available.length > 0 && chart && (
          <>
            <div class="tabs" role="tablist" aria-label={d.chart}>
              {available.map((c) => {
                const label = conceptText(data.observations.find((o) => codeOf(o) === c.code)?.code);
                return (
                  <button
                    type="button"
                    role="tab"
                    aria-selected={c.key === chart.key}
                    class={c.key === chart.key ? 'tab active' : 'tab'}
                    onClick={() => setChartKey(c.key)}
                    key={c.key}
                  >
                    {label}
                  </button>
                );
              })}
            </div>
            <VitalsChart series={series} unit={chart.unit} />
          </>
        )}
        {data.observations.length === 0 ? (
          <p class="notice">{d.noObservations}</p>
        ) : (
          <div class="table-wrap">
            <table class="obs">
              <thead>
                <tr>
                  <th>{d.date}</th>
                  <th>{d.test}</th>
                  <th>{d.value}</th>
                </tr>
              </thead>
              <tbody>
                {data.observations.map((o) => (
                  <tr key={o.id}>
                    <td>{formatDateTime(timeOf(o))}</td>
                    <td>{conceptText(o.code)}</td>
                    <td>{valueText(o)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
      <ChartImaging patientId={p.id!} />
      {!own && (me.value?.role === 'commune_clinician' || me.value?.role === 'coordinator') && <FamilyLinkForm patientId={p.id!} />}
    </article>
  );
}
