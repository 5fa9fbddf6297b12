/**
 * Progress of `cauyte import`: after each file (and each chunk of a large NDJSON file) one line
 * on stderr with the files and resources done, the rate so far and the time left, estimated from
 * the bytes still to read at the byte rate so far. Pure formatting and arithmetic; the caller
 * prints.
 */
export interface ImportProgress {
  /** Bytes of every file to import. */
  totalBytes: number;
  totalFiles: number;
  startedAt: number;
}

export interface ProgressPoint {
  filesDone: number;
  bytesDone: number;
  resourcesDone: number;
  /** The file in progress (or just finished). */
  file: string;
  now?: number;
}

const clock = (seconds: number) => {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const mmss = `${String(m).padStart(h ? 2 : 1, '0')}:${String(s % 60).padStart(2, '0')}`;
  return h ? `${h}:${mmss}` : mmss;
};

export function progressLine(p: ImportProgress, at: ProgressPoint): string {
  const seconds = Math.max(0.001, ((at.now ?? Date.now()) - p.startedAt) / 1000);
  const rate = at.resourcesDone / seconds;
  const left = at.bytesDone > 0 ? ((p.totalBytes - at.bytesDone) / at.bytesDone) * seconds : NaN;
  const pct = p.totalBytes ? Math.min(100, (at.bytesDone / p.totalBytes) * 100) : 100;
  return `[${at.filesDone}/${p.totalFiles}] ${pct.toFixed(1)} % · ${at.resourcesDone.toLocaleString('en-US')} resources · ${Math.round(rate).toLocaleString('en-US')}/s · ETA ${
    Number.isFinite(left) ? clock(left) : '?'
  } · ${at.file}`;
}
