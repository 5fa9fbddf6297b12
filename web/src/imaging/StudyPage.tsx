/**
 * One study: series thumbnails, the viewer (Cornerstone3D, imported only here), tools, the
 * measurements saved with the study, the report (read, or written and signed at the hub), and
 * shared viewing when opened from a meeting (?meeting=<room id>): present, or follow the presenter.
 * On a weak link the first image is drawn from its early bytes (preview.ts) before the engine's
 * code is fetched; the engine replaces that preview with the same image and window, and the tools
 * are enabled only then.
 */
import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { StudyView } from '../../../src/imaging/contract.ts';
import { apiSend } from '../api.ts';
import { formatDateTime } from '../i18n.ts';
import { num, ti } from '../i18n-imaging.ts';
import { me } from '../session.ts';
import { engineGate, peekImage, studyDetails } from './early.ts';
import { ReportPanel } from './ReportPanel.tsx';
import './imaging.css';
import { seriesOf, sopOfImageId } from './shared.ts';
import { shareViewer, type SharedView } from './share.ts';
import type { drawPreview, PreviewImage } from './preview.ts';
import type { ToolName, Viewer, ViewState } from './viewer.ts';

const TOOLS: ToolName[] = ['wl', 'pan', 'zoom', 'length', 'angle'];

/** A series' thumbnail; drawn only once the viewer shows its first image (`ready`), so on a slow link thumbnails never compete with it. */
function Thumb({ imageId, label, active, ready, onPick }: { imageId: string; label: string; active: boolean; ready: boolean; onPick: () => void }) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    if (ready) void import('./viewer.ts').then((v) => v.thumbnail(ref.current!, imageId)).catch(() => undefined);
  }, [imageId, ready]);
  return (
    <button type="button" class={active ? 'thumb active' : 'thumb'} onClick={onPick} aria-pressed={active}>
      <canvas ref={ref} width={96} height={96} />
      <span>{label}</span>
    </button>
  );
}

export function StudyPage({ id, meetingId }: { id: string; meetingId?: string }) {
  const l = ti();
  const [view, setView] = useState<StudyView | undefined>();
  const [error, setError] = useState<string | undefined>();
  const [seriesIx, setSeriesIx] = useState(0);
  const [tool, setTool] = useState<ToolName>('wl');
  const [vs, setVs] = useState<ViewState | undefined>();
  const element = useRef<HTMLDivElement>(null);
  const viewer = useRef<Viewer | undefined>(undefined);
  const shared = useRef<SharedView | undefined>(undefined);
  const [presenting, setPresenting] = useState(false);
  const [link, setLink] = useState<string | undefined>();
  const [theirPointer, setTheirPointer] = useState<[number, number] | null>(null);
  const [preview, setPreview] = useState<{ img: PreviewImage; draw: typeof drawPreview } | undefined>();
  const previewCanvas = useRef<HTMLCanvasElement>(null);

  // The first load takes the early request (early.ts); reloads after a change ask again.
  const load = () =>
    studyDetails(id).then(
      (v) => {
        performance.mark('cy:details');
        setView(v);
      },
      (e: Error) => setError(e.message),
    );
  useEffect(() => {
    void load();
  }, [id]);
  // The viewer's code and engine start while the study's details travel (first image sooner on a slow link).
  // Not before the first image's bytes are in (early.ts): on a weak link the two would share it.
  useEffect(() => {
    void engineGate(id)
      .then(() => import('./viewer.ts'))
      .then((v) => v.prepare())
      .catch(() => undefined);
  }, []);

  const series = view ? seriesOf(view.study, view.studyUid) : [];
  const current = series[seriesIx];

  // The first image from its early bytes, while the engine's code travels (uncompressed files only).
  useEffect(() => {
    const early = current && seriesIx === 0 ? peekImage(current.imageIds[0]) : undefined;
    if (!early) return;
    let cancelled = false;
    void early
      .then(async (buf) => {
        const { decodePreview, drawPreview } = await import('./preview.ts');
        const img = decodePreview(buf);
        if (!cancelled && img && !viewer.current) setPreview({ img, draw: drawPreview });
      })
      .catch(() => undefined);
    return () => {
      cancelled = true;
    };
  }, [view?.studyUid]);
  // Drawn before the browser paints, so the status below never shows without its picture.
  useLayoutEffect(() => {
    if (!preview || !previewCanvas.current) return;
    const canvas = previewCanvas.current;
    const draw = () => preview.draw(canvas, preview.img);
    draw();
    performance.mark('cy:preview');
    const resized = new ResizeObserver(draw);
    resized.observe(canvas);
    return () => resized.disconnect();
  }, [preview]);

  useEffect(() => {
    if (!current || !element.current) return;
    let cancelled = false;
    void engineGate(id)
      .then(() => import('./viewer.ts'))
      .then(async (v) => {
        const opened = await v.openViewer(element.current!, current.imageIds, sopOfImageId);
        if (cancelled) return opened.destroy();
        viewer.current = opened;
        // The engine's canvas has drawn the same image: the preview goes (after the next frame).
        requestAnimationFrame(() => requestAnimationFrame(() => setPreview(undefined)));
        setVs(opened.state());
        opened.onChange(setVs);
        opened.onMeasure(async (m) => {
          await apiSend('POST', `/api/imaging/studies/${id}/annotations`, m).catch((e: Error) => setError(e.message));
          void load();
        });
        if (meetingId) shared.current = shareViewer(meetingId, id, opened, setTheirPointer, setLink);
      });
    return () => {
      cancelled = true;
      shared.current?.close();
      shared.current = undefined;
      viewer.current?.destroy();
      viewer.current = undefined;
    };
  }, [view?.studyUid, seriesIx]);

  if (error && !view)
    return (
      <p class="error" role="alert">
        {error}
      </p>
    );
  if (!view) return <p class="notice">{l.loadingImages}</p>;
  const s = view.study;
  // What the status shows: the engine's view, or the preview's (image 1, its window, fitted) until the engine is there.
  const shown: ViewState | undefined =
    vs ??
    (preview ? { index: 0, wc: (preview.img.lower + preview.img.upper) / 2, ww: preview.img.upper - preview.img.lower, zoom: 1, pan: [0, 0] } : undefined);
  return (
    <article class="imaging-study">
      <header class="page-head">
        <a href={`/patients/${s.subject?.reference?.split('/')[1]}`} class="back">
          ← {view.patientName}
        </a>
        <h1>
          {l.study}: {s.modality?.map((m) => m.code).join(', ')} · {formatDateTime(s.started)}
        </h1>
        <p class="meta">
          {s.description} · {s.numberOfSeries} {l.series} · {s.numberOfInstances} {l.images}
          {view.requestingFacility ? ` · ${l.from}: ${view.requestingFacility}` : ''}
        </p>
        {view.request?.note?.[0]?.text && (
          <p>
            {l.question}: {view.request.note[0].text}
          </p>
        )}
      </header>
      {series.length > 1 && (
        <div class="thumbs" role="list">
          {series.map((x, i) => (
            <Thumb key={x.uid} imageId={x.imageIds[0]} label={x.label} active={i === seriesIx} ready={!!vs} onPick={() => setSeriesIx(i)} />
          ))}
        </div>
      )}
      <div class="viewer-tools" role="toolbar">
        {TOOLS.map((t) => (
          <button
            type="button"
            key={t}
            class={t === tool ? 'tab active' : 'tab'}
            aria-pressed={t === tool}
            data-tool={t}
            disabled={!vs}
            onClick={() => {
              viewer.current?.setTool(t);
              setTool(t);
            }}
          >
            {l.tools[t]}
          </button>
        ))}
      </div>
      {meetingId && (
        <p class="row" data-testid="share" data-link={link}>
          <button
            type="button"
            aria-pressed={presenting}
            onClick={() => {
              shared.current?.present(!presenting);
              setPresenting(!presenting);
            }}
          >
            {presenting ? l.presenting : l.share}
          </button>
          {!presenting && link === 'open' && <span class="meta">{l.following}</span>}
        </p>
      )}
      <div class="viewer-wrap">
        <div
          ref={element}
          class="viewer"
          data-testid="viewer"
          data-index={vs?.index}
          data-wc={vs ? Math.round(vs.wc) : undefined}
          data-ww={vs ? Math.round(vs.ww) : undefined}
          onContextMenu={(e) => e.preventDefault()}
          onPointerMove={(e) => {
            if (!presenting) return;
            const r = (e.currentTarget as HTMLElement).getBoundingClientRect();
            shared.current?.pointer([Math.min(1, Math.max(0, (e.clientX - r.left) / r.width)), Math.min(1, Math.max(0, (e.clientY - r.top) / r.height))]);
          }}
          onPointerLeave={() => presenting && shared.current?.pointer(null)}
        />
        {preview && <canvas ref={previewCanvas} class="viewer-preview" data-testid="viewer-preview" aria-hidden="true" />}
        {theirPointer && !presenting && (
          <span class="their-pointer" data-testid="their-pointer" style={{ left: `${theirPointer[0] * 100}%`, top: `${theirPointer[1] * 100}%` }} />
        )}
      </div>
      {shown && current && (
        <p class="meta" data-testid="viewer-status" data-preview={vs ? undefined : 'true'}>
          {l.image} {shown.index + 1}/{current.imageIds.length} · {l.window} C {num(shown.wc, 0)} W {num(shown.ww, 0)} · ×{num(shown.zoom, 2)}
          {!vs && ` · ${l.preview}`}
        </p>
      )}
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <section class="card">
        <h2>{l.measurements}</h2>
        {view.annotations.length === 0 ? (
          <p class="notice">{l.noMeasurements}</p>
        ) : (
          <ul data-testid="measurements">
            {view.annotations.map((a) => (
              <li key={a.id}>
                {l.tools[a.kind] ?? a.kind}: {a.value !== undefined ? `${num(a.value, 1)} ${a.unit === 'deg' ? '°' : a.unit}` : a.text}
                <span class="meta">
                  {' '}
                  · {a.authorName} · {formatDateTime(a.createdAt)}
                </span>
              </li>
            ))}
          </ul>
        )}
      </section>
      <ReportPanel view={view} canReport={me.value?.role === 'specialist'} onChanged={load} />
      {(me.value?.role === 'specialist' || me.value?.role === 'commune_clinician') && (
        <p class="meta">
          <a href={`/api/imaging/studies/${id}/deidentified`} download>
            {l.deidentified}
          </a>{' '}
          · {l.burntIn}
        </p>
      )}
    </article>
  );
}
