/**
 * The patient chart's imaging section: the patient's studies (modality, date, images, report
 * status) with a link to the viewer, and — for clinicians who may send studies — the upload form.
 * Mounted by the chart with one line: <ChartImaging patientId={…} />.
 */
import { useEffect, useState } from 'preact/hooks';
import type { StudySummary } from '../../../src/imaging/contract.ts';
import { apiGet, ApiError } from '../api.ts';
import { formatDateTime } from '../i18n.ts';
import { ti } from '../i18n-imaging.ts';
import { me } from '../session.ts';
import { ImagingUpload } from './Upload.tsx';
import './imaging.css';

const UPLOADERS = new Set(['commune_clinician', 'specialist']);

export function ChartImaging({ patientId }: { patientId: string }) {
  const l = ti();
  const [studies, setStudies] = useState<StudySummary[] | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [absent, setAbsent] = useState(false);
  const load = () =>
    apiGet<StudySummary[]>(`/api/imaging/studies?patient=${encodeURIComponent(patientId)}`).then(setStudies, (e: Error) =>
      // A platform running without the imaging domain has no such route, and a role that does not
      // read images (a coordinator) is refused: show nothing rather than an error.
      e instanceof ApiError && (e.status === 404 || e.status === 403) ? setAbsent(true) : setError(e.message),
    );
  useEffect(() => {
    void load();
  }, [patientId]);
  if (absent) return null;
  return (
    <section class="card" data-testid="chart-imaging">
      <h2>{l.section}</h2>
      {error && <p class="error">{error}</p>}
      {studies && studies.length === 0 && <p class="notice">{l.noStudies}</p>}
      {studies && studies.length > 0 && (
        <ul class="studies">
          {studies.map((s) => (
            <li key={s.id}>
              {me.value?.role === 'citizen' ? (
                <strong>
                  {s.modalities.join(', ')} · {formatDateTime(s.started)}
                </strong>
              ) : (
                <a href={`/imaging/${s.id}`}>
                  {s.modalities.join(', ')} · {formatDateTime(s.started)}
                </a>
              )}
              <span class="meta">
                {' '}
                · {s.description ? `${s.description} · ` : ''}
                {s.instances} {l.images} ·{' '}
                <span data-report={s.reportStatus ?? 'none'}>
                  {s.reportStatus === 'signed' ? l.reportSigned : s.reportStatus === 'draft' ? l.reportDraft : l.reportNone}
                </span>
              </span>
            </li>
          ))}
        </ul>
      )}
      {UPLOADERS.has(me.value?.role ?? '') && <ImagingUpload patientId={patientId} onDone={load} />}
    </section>
  );
}
