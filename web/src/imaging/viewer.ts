/**
 * The DICOM viewer engine: Cornerstone3D (core + DICOM image loader + tools) on one stack
 * viewport. Loaded only by the imaging pages, through a dynamic import (the rest of the app never
 * downloads it).
 *
 * Rules: images come from our guarded DICOMweb routes (wadouri: the Part 10 file of each instance,
 * same-origin cookies); the first image is shown as soon as it arrives and the rest stream in
 * behind it (stack prefetch) — a slow link shows something at once. Tools: window/level, pan,
 * zoom, scroll (wheel), length and angle. The viewer's state (image, window, zoom, pan) can be
 * read and set, for shared viewing in a meeting.
 */
import * as core from '@cornerstonejs/core';
import * as loader from '@cornerstonejs/dicom-image-loader';
import * as tools from '@cornerstonejs/tools';
import { takeImage } from './early.ts';

let initialised: Promise<void> | undefined;

/** A timing mark the weak-link bench reads (bench/imaging-weaklink.ts): once per name and page. */
export function mark(name: string): void {
  if (performance.getEntriesByName(`cy:${name}`, 'mark').length === 0) performance.mark(`cy:${name}`);
}

function init(): Promise<void> {
  initialised ??= (async () => {
    mark('engine-start');
    await core.init();
    loader.init({
      maxWebWorkers: 1,
      // Our WADO-RS instance route answers the bare Part 10 file for this Accept.
      beforeSend: () => ({ Accept: 'application/dicom' }),
    });
    tools.init();
    for (const T of [tools.WindowLevelTool, tools.PanTool, tools.ZoomTool, tools.StackScrollTool, tools.LengthTool, tools.AngleTool]) tools.addTool(T);
    core.eventTarget.addEventListener(core.Enums.Events.IMAGE_LOADED, () => mark('image-loaded'));
    mark('engine-ready');
  })();
  return initialised;
}

/** Starts the engine (core, image loader and its worker, tools) ahead of the study's data: on a slow link this runs while the study's details are on their way. */
export function prepare(): Promise<void> {
  return init();
}

export type ToolName = 'wl' | 'pan' | 'zoom' | 'length' | 'angle';

const TOOL: Record<ToolName, string> = {
  wl: tools.WindowLevelTool.toolName,
  pan: tools.PanTool.toolName,
  zoom: tools.ZoomTool.toolName,
  length: tools.LengthTool.toolName,
  angle: tools.AngleTool.toolName,
};

export interface ViewState {
  index: number;
  /** Window centre and width (VOI). */
  wc: number;
  ww: number;
  zoom: number;
  pan: [number, number];
}

export interface Measurement {
  kind: 'length' | 'angle';
  sopUid: string;
  /** Image (pixel) coordinates of the points. */
  points: [number, number][];
  value: number;
  unit: 'mm' | 'deg' | 'px';
}

export interface Viewer {
  setTool(t: ToolName): void;
  state(): ViewState;
  apply(s: Partial<ViewState>): Promise<void>;
  onChange(fn: (s: ViewState) => void): void;
  onMeasure(fn: (m: Measurement) => void): void;
  count: number;
  destroy(): void;
}

let serial = 0;

/** Thumbnails: the first image of a series drawn into a small canvas. */
export async function thumbnail(canvas: HTMLCanvasElement, imageId: string): Promise<void> {
  await init();
  await core.utilities.loadImageToCanvas({ canvas, imageId, thumbnail: true });
}

export async function openViewer(element: HTMLDivElement, imageIds: string[], sopOf: (imageId: string) => string): Promise<Viewer> {
  await init();
  const id = ++serial;
  const engine = new core.RenderingEngine(`cauyte-engine-${id}`);
  const viewportId = `cauyte-stack-${id}`;
  engine.enableElement({ viewportId, element, type: core.Enums.ViewportType.STACK });
  const viewport = engine.getViewport(viewportId) as core.Types.IStackViewport;
  const group = tools.ToolGroupManager.createToolGroup(`cauyte-tools-${id}`)!;
  for (const name of Object.values(TOOL)) group.addTool(name);
  group.addTool(tools.StackScrollTool.toolName);
  group.addViewport(viewportId, engine.id);
  const { MouseBindings } = tools.Enums;
  group.setToolActive(tools.StackScrollTool.toolName, { bindings: [{ mouseButton: MouseBindings.Wheel }] });
  group.setToolActive(TOOL.pan, { bindings: [{ mouseButton: MouseBindings.Auxiliary }] });
  group.setToolActive(TOOL.zoom, { bindings: [{ mouseButton: MouseBindings.Secondary }] });
  let left: ToolName = 'wl';
  group.setToolActive(TOOL.wl, { bindings: [{ mouseButton: MouseBindings.Primary }] });

  mark('viewer-open');
  // The first image's bytes may already be on their way (early.ts): parsed into the loader's cache, not asked for again.
  const early = imageIds[0] ? takeImage(imageIds[0]) : undefined;
  const buf = early && (await early.catch(() => undefined));
  if (buf) await loader.wadouri.dataSetCacheManager.load(imageIds[0].replace(/^wadouri:/, ''), () => Promise.resolve(buf), imageIds[0]).catch(() => undefined);
  element.addEventListener(core.Enums.Events.IMAGE_RENDERED, () => viewport.getCurrentImageId() && mark('rendered'));
  // The canvas follows the element's size (a phone turned, a window resized): without this the image is stretched.
  const resized = new ResizeObserver(() => engine.resize(true, true));
  resized.observe(element);
  await viewport.setStack(imageIds, 0); // the first image, at once
  viewport.render();
  mark('stack-set');
  // The rest, streaming behind it — started in the next task, after the page has shown the first image's status.
  let prefetching = false;
  const prefetch = setTimeout(() => {
    prefetching = true;
    tools.utilities.stackPrefetch.enable(element);
  }, 0);

  const changeListeners: ((s: ViewState) => void)[] = [];
  const measureListeners: ((m: Measurement) => void)[] = [];
  const state = (): ViewState => {
    const voi = viewport.getProperties().voiRange;
    const pan = viewport.getPan() as [number, number];
    return {
      index: viewport.getCurrentImageIdIndex(),
      wc: voi ? (voi.upper + voi.lower) / 2 : 0,
      ww: voi ? voi.upper - voi.lower : 0,
      zoom: viewport.getZoom(),
      pan: [pan[0], pan[1]],
    };
  };
  const changed = () => {
    const s = state();
    for (const fn of changeListeners) fn(s);
  };
  const E = core.Enums.Events;
  element.addEventListener(E.STACK_NEW_IMAGE, changed);
  element.addEventListener(E.VOI_MODIFIED, changed);
  element.addEventListener(E.CAMERA_MODIFIED, changed);

  const onCompleted = (evt: Event) => {
    const ann = (evt as CustomEvent).detail?.annotation as
      | {
          metadata: { toolName: string; referencedImageId?: string };
          data: { handles: { points: number[][] }; cachedStats?: Record<string, Record<string, unknown>> };
        }
      | undefined;
    if (!ann || !ann.metadata.referencedImageId) return;
    const kind = ann.metadata.toolName === TOOL.length ? 'length' : ann.metadata.toolName === TOOL.angle ? 'angle' : undefined;
    if (!kind) return;
    const imageId = ann.metadata.referencedImageId;
    const points = ann.data.handles.points.map((p) => {
      const ij = core.utilities.worldToImageCoords(imageId, p as core.Types.Point3);
      return [Math.round(ij![0] * 100) / 100, Math.round(ij![1] * 100) / 100] as [number, number];
    });
    // Recomputed from the final handles (the tool's cached statistics may lag the last mouse move):
    // world coordinates are in millimetres when the image carries a pixel spacing.
    const w = ann.data.handles.points;
    const dist = (a: number[], b: number[]) => Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);
    const plane = core.metaData.get('imagePlaneModule', imageId) as { rowPixelSpacing?: number } | undefined;
    let value: number;
    if (kind === 'length') value = dist(w[0], w[1]);
    else {
      const v1 = [w[0][0] - w[1][0], w[0][1] - w[1][1], w[0][2] - w[1][2]];
      const v2 = [w[2][0] - w[1][0], w[2][1] - w[1][1], w[2][2] - w[1][2]];
      const cos = (v1[0] * v2[0] + v1[1] * v2[1] + v1[2] * v2[2]) / (Math.hypot(...v1) * Math.hypot(...v2));
      value = (Math.acos(Math.min(1, Math.max(-1, cos))) * 180) / Math.PI;
    }
    const unit = kind === 'angle' ? 'deg' : plane?.rowPixelSpacing ? 'mm' : 'px';
    for (const fn of measureListeners) fn({ kind, sopUid: sopOf(imageId), points, value, unit });
  };
  core.eventTarget.addEventListener(tools.Enums.Events.ANNOTATION_COMPLETED, onCompleted);

  return {
    count: imageIds.length,
    setTool(t) {
      if (t === left) return;
      group.setToolPassive(TOOL[left]);
      // Pan and zoom keep their other buttons; W/L and the measuring tools only have the left one.
      if (left === 'pan') group.setToolActive(TOOL.pan, { bindings: [{ mouseButton: MouseBindings.Auxiliary }] });
      if (left === 'zoom') group.setToolActive(TOOL.zoom, { bindings: [{ mouseButton: MouseBindings.Secondary }] });
      group.setToolActive(TOOL[t], { bindings: [{ mouseButton: MouseBindings.Primary }] });
      left = t;
    },
    state,
    async apply(s) {
      if (s.index !== undefined && s.index !== viewport.getCurrentImageIdIndex()) await viewport.setImageIdIndex(s.index);
      if (s.wc !== undefined && s.ww !== undefined && s.ww > 0) viewport.setProperties({ voiRange: { lower: s.wc - s.ww / 2, upper: s.wc + s.ww / 2 } });
      if (s.zoom !== undefined && s.zoom > 0) viewport.setZoom(s.zoom);
      if (s.pan) viewport.setPan(s.pan as core.Types.Point2);
      viewport.render();
    },
    onChange(fn) {
      changeListeners.push(fn);
    },
    onMeasure(fn) {
      measureListeners.push(fn);
    },
    destroy() {
      core.eventTarget.removeEventListener(tools.Enums.Events.ANNOTATION_COMPLETED, onCompleted);
      resized.disconnect();
      clearTimeout(prefetch);
      if (prefetching) tools.utilities.stackPrefetch.disable(element);
      tools.ToolGroupManager.destroyToolGroup(group.id);
      engine.destroy();
    },
  };
}
