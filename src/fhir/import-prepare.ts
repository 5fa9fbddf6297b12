/**
 * The CPU half of importing a transaction Bundle, with no database and no principal: new ids for
 * its entries, urn:uuid references resolved, every resource validated and its index rows
 * extracted — what bundle.ts's transaction does before it writes, done ahead (in a worker thread,
 * import-worker.ts) so `cauyte import` prepares the next file while the current one is written.
 *
 * Rules: only for the simple, common shape — a transaction whose entries are all POSTs without
 * ifNoneExist; anything else, or any entry that fails, gives undefined and the ordinary path runs
 * (and reports the error as it always does). The result is used only for the platform's own
 * imports (a system principal, for which guard.prepareCreate changes nothing); bundle.ts still
 * runs every check that depends on who writes and on the database.
 */
import { randomUUID } from 'node:crypto';
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { resolveBundleReferences } from './bundle.ts';
import type { IndexRows } from './searchparams.ts';
import type { PreparedWrite } from './storage.ts';
import { renderCopy, type RenderedCopy } from './storage-copy.ts';

export interface PreparedBundle {
  /** The new id of each entry, by entry index. */
  ids: string[];
  /** Each entry's resource with its references resolved, validated and indexed, by entry index. */
  writes: PreparedWrite[];
  /** meta.lastUpdated of every write (ISO). */
  lastUpdated: string;
  /** The writes' rows rendered as COPY bytes ahead (storage-copy.ts renderCopy), when the file is big enough to go by COPY. */
  copy?: RenderedCopy;
  /** Each write's resource as JSON, the text its version row stores (when rendered for COPY; toWire sends it instead of stringifying again, and does not send this field). */
  texts?: string[];
}

/**
 * A PreparedBundle as the worker thread sends it: the resources as one JSON text, the rest as it is.
 * The main thread reads that text with JSON.parse about twice as fast as it takes the structured
 * clone of the same objects (123 → 67 ms for a round of the Synthea files, measured 2026-12-03),
 * and the worker has the text already (each version row stores it). Index rows hold Date values,
 * so they keep the structured clone.
 */
export interface PreparedWire {
  ids: string[];
  lastUpdated: string;
  copy?: RenderedCopy;
  /** The resources as a JSON array, in entry order. */
  resources: string;
  rows: IndexRows[];
}

export function toWire(p: PreparedBundle): PreparedWire {
  const texts = p.texts ?? p.writes.map((w) => JSON.stringify(w.resource));
  return { ids: p.ids, lastUpdated: p.lastUpdated, ...(p.copy ? { copy: p.copy } : {}), resources: `[${texts.join(',')}]`, rows: p.writes.map((w) => w.rows) };
}

/** The PreparedBundle a wire form stands for (the resources parsed; equal to what the worker prepared, as its JSON). */
export function fromWire(w: PreparedWire): PreparedBundle {
  const resources = JSON.parse(w.resources) as Resource[];
  if (resources.length !== w.rows.length || w.ids.length !== w.rows.length) throw new Error('a prepared file came back with its parts of different lengths');
  return {
    ids: w.ids,
    lastUpdated: w.lastUpdated,
    ...(w.copy ? { copy: w.copy } : {}),
    writes: resources.map((resource, i) => ({ resource, rows: w.rows[i] })),
  };
}

/**
 * The transaction Bundle a preparation stands for, rebuilt from it (entries in the same order, each
 * a POST of its prepared resource): what the writer processes instead of reading and parsing the
 * file again — the worker's read of the file is the only one, so what is written is what was read.
 */
export function preparedAsBundle(p: PreparedBundle): Bundle {
  return {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: p.writes.map((w) => ({ resource: w.resource, request: { method: 'POST', url: w.resource.resourceType } })),
  };
}

/**
 * Prepares a transaction bundle of plain POSTs (see the header); undefined for anything else.
 * `owned`: the caller gives the bundle up (the worker parsed it from the file), so references are
 * resolved in its resources in place rather than in copies.
 */
export function prepareTransactionBundle(
  bundle: unknown,
  prepareCreate: (input: Resource, id: string, lastUpdated: Date) => PreparedWrite,
  opts: { copyFrom?: number; owned?: boolean } = {},
): PreparedBundle | undefined {
  const b = bundle as Bundle;
  if (typeof b !== 'object' || b === null || b.resourceType !== 'Bundle' || b.type !== 'transaction' || !Array.isArray(b.entry)) return undefined;
  const entries = b.entry;
  const ids: string[] = [];
  const idMap = new Map<string, string>();
  for (const e of entries) {
    const r = e?.resource;
    if (e?.request?.method !== 'POST' || e.request.ifNoneExist || typeof r !== 'object' || r === null || e.request.url !== r.resourceType) return undefined;
    const id = randomUUID();
    ids.push(id);
    if (e.fullUrl) idMap.set(e.fullUrl, `${r.resourceType}/${id}`);
  }
  const now = new Date();
  try {
    const writes = entries.map((e, i) => prepareCreate(resolveBundleReferences(e.resource!, idMap, { inPlace: opts.owned }), ids[i], now));
    const lastUpdated = now.toISOString();
    if (writes.length < (opts.copyFrom ?? Infinity)) return { ids, writes, lastUpdated };
    // Rows that will go by COPY are rendered here too, so the writer only fills in row ids and sends them.
    const texts = writes.map((w) => JSON.stringify(w.resource));
    return { ids, writes, lastUpdated, copy: renderCopy(writes, lastUpdated, texts), texts };
  } catch {
    return undefined;
  }
}
