/**
 * The import's worker thread (piscina; started by import.ts): reads a Bundle file and prepares it
 * (import-prepare.ts: ids, references, validation, index rows) while the main thread writes the
 * previous file, rows that go by COPY rendered as bytes (storage-copy.ts renderCopy); the main thread then writes what this read (it does not read the file again). The search-parameter ids come from the main thread's registry (workerData), so
 * the rows match the database's. Pure CPU: no database, no principal, no audit — the main thread
 * runs every check and writes (bundle.ts with `prepared`).
 */
import { readFileSync } from 'node:fs';
import { workerData } from 'node:worker_threads';
import { prepareTransactionBundle, toWire, type PreparedWire } from './import-prepare.ts';
import { SearchRegistry } from './searchparams.ts';
import { prepareNew } from './storage.ts';

const data = workerData as { paramIds: { id: number; resource_type: string; code: string }[]; copyFrom: number };
const registry = SearchRegistry.fromIds(data.paramIds);

/** A Bundle file prepared (its wire form: import-prepare.ts), or undefined when the main thread must do it the ordinary way. */
export default function prepareFile(file: string): PreparedWire | undefined {
  let bundle: unknown;
  try {
    bundle = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
  const prepared = prepareTransactionBundle(bundle, (input, id, now) => prepareNew(registry, input, id, now), { copyFrom: data.copyFrom, owned: true });
  return prepared && toWire(prepared);
}
