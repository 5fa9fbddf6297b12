/**
 * The clinician's chart: one screen (desktop and phone) from GET /api/chart/:id — allergies at the
 * top, then medicines, problems, alerts, case conferences, encounters, bookings, documents,
 * programmes and family — with the vital-sign trends below. A refused record shows why and offers
 * break-the-glass on the spot (AccessRefused).
 */
import type { Bundle, Observation } from '@medplum/fhirtypes';
import { useEffect, useMemo, useState } from 'preact/hooks';
import type { BreakGlassGrant } from '../../../src/auth/contract.ts';
import type { Chart } from '../../../src/chart/contract.ts';
import { apiGet, ApiError, entries, fhirGet } from '../api.ts';
import { VitalsChart, type Series } from '../components/VitalsChart.tsx';
import { ageOf, conceptText, genderLabel, quantityText } from '../fhir-format.ts';
import { formatDate, formatDateTime, t } from '../i18n.ts';
import { tc } from '../i18n-clinic.ts';
import { LiveEventStream } from '../live.ts';
import { me } from '../session.ts';
import { FamilyLinkForm } from '../components/FamilyLink.tsx';
import { AccessRefused } from './chart/AccessRefused.tsx';
import { AllergyBanner, ChartSections } from './chart/Sections.tsx';
import './chart/chart.css';
import { ChartImaging } from '../imaging/ChartImaging.tsx';
import { AppLauncher } from './formats/AppLauncher.tsx';
import { usePatientViewCards } from '../cds/hooks.ts';
import { CdsCards } from '../cds/CdsCards.tsx';

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

export function PatientChart({ id, own = false }: { id: string; own?: boolean }) {
  const d = t();
  const c = tc();
  const [data, setData] = useState<{ chart?: Chart; observations: Observation[]; error?: ApiError; loading: boolean }>({ observations: [], loading: true });
  const [grant, setGrant] = useState<BreakGlassGrant>();
  const [chartKey, setChartKey] = useState('bp');
  const [attempt, setAttempt] = useState(0);
  // Decision support, fired once the chart is shown (never holding it up).
  const cds = usePatientViewCards(id, !own && !!data.chart);

  useEffect(() => {
    let live = true;
    (async () => {
      try {
        // The chart first: a refusal (another facility's patient) must show before anything else.
        const chart = await apiGet<Chart>(`/api/chart/${encodeURIComponent(id)}`);
        const ob = await fhirGet<Bundle>(`Observation?patient=${encodeURIComponent(id)}&_sort=-date&_count=1000`);
        if (live) setData({ chart, observations: entries<Observation>(ob), loading: false });
      } catch (e) {
        const err = e instanceof ApiError ? e : new ApiError(0, (e as Error).message);
        if (live) setData({ observations: [], loading: false, error: err });
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

  const available = useMemo(() => CHARTS.filter((k) => data.observations.some((o) => codeOf(o) === k.code)), [data.observations]);
  const chart = available.find((k) => k.key === chartKey) ?? available[0];
  const series = useMemo<Series[]>(() => {
    if (!chart) return [];
    const obs = data.observations.filter((o) => codeOf(o) === chart.code && timeOf(o));
    if (chart.components) {
      return chart.components.map((k) => ({
        label: d[k.label],
        color: k.color,
        points: obs.flatMap((o) => {
          const v = o.component?.find((x) => x.code.coding?.some((y) => y.code === k.code))?.valueQuantity?.value;
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
  if (data.error && (data.error.status === 403 || data.error.status === 404))
    return (
      <AccessRefused
        patientId={id}
        error={data.error}
        onOpened={(g) => {
          setGrant(g);
          setAttempt(attempt + 1);
        }}
      />
    );
  if (data.error || !data.chart) {
    return (
      <p class="error" role="alert">
        {d.errorPrefix}
        {data.error?.message}{' '}
        <button type="button" onClick={() => setAttempt(attempt + 1)}>
          {d.retry}
        </button>
      </p>
    );
  }
  const p = data.chart.patient;
  const age = ageOf(p.birthDate);
  return (
    <article class="chart-page">
      {!own && (
        <a href="/patients" class="back">
          {d.back}
        </a>
      )}
      <h1>
        {p.name} <small>{d.chartTitle}</small>
      </h1>
      {grant && (
        <p class="notice glass" role="status">
          {c.breakGlassActive(formatDateTime(grant.expiresAt))}
        </p>
      )}
      <AllergyBanner chart={data.chart} />
      {!own && <AppLauncher patientId={p.id} />}
      <CdsCards result={cds} />
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
          <dd>{p.cccd ?? '—'}</dd>
          <dt>{d.bhyt}</dt>
          <dd>{p.bhytCard ?? '—'}</dd>
          {p.ethnicity && (
            <>
              <dt>{d.ethnicity}</dt>
              <dd>{p.ethnicity}</dd>
            </>
          )}
          <dt>{d.address}</dt>
          <dd>{p.address || '—'}</dd>
          <dt>{d.phone}</dt>
          <dd>{p.phone ?? '—'}</dd>
          <dt>{d.facility}</dt>
          <dd>{p.facility ?? '—'}</dd>
        </dl>
      </section>
      <ChartSections chart={data.chart} />
      <section class="card">
        <h2>{c.vitalsTitle}</h2>
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
      {!own && (me.value?.role === 'commune_clinician' || me.value?.role === 'coordinator') && <FamilyLinkForm patientId={p.id} />}
    </article>
  );
}
