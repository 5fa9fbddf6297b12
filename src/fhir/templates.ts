/**
 * Validation by template, for pipelines that write many resources of one shape (device ingest:
 * thousands of Observations a second that differ only in a few values). The full write-path check
 * (assertValidResource: structure, bindings, dates, identifiers, content rules) runs once per
 * template — the resource with each "slot" holding a canonical value — and each resource then
 * only has its slot values tested against the slot's class: a set of values the full check treats
 * alike. A resource that passes both is vouched for, and the store does not validate it again
 * (storage.ts prepareCreate); anything else is not, and the store validates it in full like any
 * other write. templates.test.ts runs both on generated and mutated resources and compares every
 * verdict.
 *
 * Rules: a vouched resource is deep-frozen (it cannot change after the check) and carries no id or
 * meta (the store sets them; the template was checked with the ones the store gives a new
 * resource). Classes are deliberately narrow (plain ASCII tokens, Type/id references, UTC instants
 * as Date.toISOString writes them, plain decimals); a value outside them only costs a full check.
 * The template verdicts are cached (bounded).
 */
import type { Resource } from '@medplum/fhirtypes';
import { FhirError } from './outcome.ts';
import { assertValidResource } from './validate.ts';

export type SlotKind = 'token' | 'reference' | 'instant' | 'decimal';
/** Where a slot is: keys and array indexes from the resource root. */
export type SlotPath = readonly (string | number)[];

const TOKEN = /^[A-Za-z0-9\-._:]{1,300}$/;
const REFERENCE = /^([A-Z][A-Za-z]{1,63})\/[A-Za-z0-9\-.]{1,64}$/;
const INSTANT = /^(19\d\d|[2-9]\d\d\d)-\d\d-\d\dT\d\d:\d\d:\d\d\.\d\d\dZ$/;

/** The canonical value a slot holds in its template, or undefined when the value is outside the slot's class. */
function canonical(kind: SlotKind, v: unknown): unknown {
  switch (kind) {
    case 'token':
      return typeof v === 'string' && TOKEN.test(v) ? 'x' : undefined;
    case 'reference': {
      const m = typeof v === 'string' ? REFERENCE.exec(v) : null;
      return m ? `${m[1]}/x` : undefined;
    }
    case 'instant':
      // A real UTC instant, written as Date.toISOString writes it (so a real calendar date and time).
      return typeof v === 'string' && INSTANT.test(v) && new Date(v).toISOString() === v ? '2026-01-01T00:00:00.000Z' : undefined;
    case 'decimal':
      return typeof v === 'number' && Number.isFinite(v) && (v === 0 || (Math.abs(v) >= 1e-6 && Math.abs(v) < 1e15)) ? 1 : undefined;
  }
}

const vouched = new WeakSet<object>();
const verdicts = new Map<string, boolean>();
const MAX_TEMPLATES = 10_000;
/** What a new resource gets from the store (storage.ts prepareCreate), for checking a template. */
const NEW_META = { id: '00000000-0000-4000-8000-000000000000', meta: { versionId: '1', lastUpdated: '2026-01-01T00:00:00.000Z' } };

/**
 * Plain JSON data as a tree (what JSON.stringify writes is then exactly what the validator sees):
 * no undefined, functions, class instances, holes or non-finite numbers, and no object reached
 * twice (FHIRPath invariants such as obs-7 compare nodes, and an object shared by two elements
 * can change their verdict).
 */
function plainJson(v: unknown, seen = new Set<object>()): boolean {
  if (v === null || typeof v === 'string' || typeof v === 'boolean') return true;
  if (typeof v === 'number') return Number.isFinite(v);
  if (typeof v !== 'object' || seen.has(v)) return false;
  seen.add(v);
  const proto = Object.getPrototypeOf(v);
  if (Array.isArray(v)) return proto === Array.prototype && v.every((x, i) => i in v && plainJson(x, seen));
  return proto === Object.prototype && Object.values(v).every((x) => plainJson(x, seen));
}

function deepFreeze(v: unknown): void {
  if (v === null || typeof v !== 'object' || Object.isFrozen(v)) return;
  Object.freeze(v);
  for (const x of Object.values(v)) deepFreeze(x);
}

/** Whether the full write-path check accepts this template (with a new resource's id and meta). */
function templateValid(key: string): boolean {
  let ok = verdicts.get(key);
  if (ok !== undefined) return ok;
  try {
    assertValidResource({ ...(JSON.parse(key) as Resource), ...NEW_META });
    ok = true;
  } catch (err) {
    if (!(err instanceof FhirError)) throw err;
    ok = false;
  }
  if (verdicts.size >= MAX_TEMPLATES) verdicts.clear();
  verdicts.set(key, ok);
  return ok;
}

/**
 * Vouches for a resource when its template passes the full check and every slot's value is in its
 * class (then freezes it); returns whether it did. A resource not vouched for is left as it was.
 */
export function vouchByTemplate(resource: Resource, slots: readonly { path: SlotPath; kind: SlotKind }[]): boolean {
  if ('id' in resource || 'meta' in resource || !plainJson(resource)) return false;
  const saved: { parent: Record<string | number, unknown>; key: string | number; value: unknown }[] = [];
  let inClass = true;
  for (const s of slots) {
    let parent: unknown = resource;
    for (const k of s.path.slice(0, -1)) parent = parent && typeof parent === 'object' ? (parent as Record<string | number, unknown>)[k] : undefined;
    const key = s.path[s.path.length - 1];
    if (!parent || typeof parent !== 'object' || !Object.hasOwn(parent, key)) {
      inClass = false;
      break;
    }
    const p = parent as Record<string | number, unknown>;
    const c = canonical(s.kind, p[key]);
    if (c === undefined) {
      inClass = false;
      break;
    }
    saved.push({ parent: p, key, value: p[key] });
  }
  if (!inClass) return false;
  // The template: the resource itself with canonical slot values (put back right after).
  for (const [i, s] of saved.entries()) s.parent[s.key] = canonical(slots[i].kind, s.value);
  let key: string;
  try {
    key = JSON.stringify(resource);
  } finally {
    for (const s of saved) s.parent[s.key] = s.value;
  }
  if (!templateValid(key)) return false;
  deepFreeze(resource);
  vouched.add(resource);
  return true;
}

/** Whether vouchByTemplate vouched for this very object (the store then skips its full check). */
export function isVouched(resource: object): boolean {
  return vouched.has(resource);
}
