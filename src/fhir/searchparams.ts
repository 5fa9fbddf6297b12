/**
 * The search parameters the store indexes, taken from the R4 SearchParameter definitions, and the
 * extraction of their values from a resource at write time (FHIRPath from @medplum/core).
 * Nothing here is written per parameter: a parameter's type and expression decide everything.
 */
import { evalFhirPathTyped, getSearchParameterDetails, getSearchParameters, toTypedValue } from '@medplum/core';
import type { FhirPathAtom, TypedValue } from '@medplum/core';
import type { Resource, SearchParameter } from '@medplum/fhirtypes';
import type { Db } from '../db/db.ts';
import { parseDateRange } from './dates.ts';
import { loadDefinitions } from './definitions.ts';
import { compileExpression } from './fastpath.ts';
import { foldText, nfc } from './normalize.ts';
import { CONTAINS_PARAMS, containsRows, dedupe, derivedParams } from './search-derived.ts';
import { patientCompartment } from './compartment.ts';

export type ParamType = 'string' | 'token' | 'reference' | 'date' | 'quantity' | 'uri' | 'number';
const INDEXED_TYPES = new Set<string>(['string', 'token', 'reference', 'date', 'quantity', 'uri', 'number']);
/** Kept on the resource row itself rather than in an index table. */
const RESOURCE_COLUMNS = new Set(['_id', '_lastUpdated']);
const R4_URL = 'http://hl7.org/fhir/SearchParameter/';

export interface SearchParam {
  id: number;
  resourceType: string;
  code: string;
  type: ParamType;
  expression: string;
  /** Resource types a reference parameter may point at. */
  targets: string[];
  evaluate: (resource: Resource) => TypedValue[];
  /** The parameter ids whose index rows answer this one: its own, or those it is derived from (search-derived.ts). */
  stored: number[];
  /** Its strings also go to idx_string_contains (trigram-indexed :contains). */
  contains: boolean;
  /** A reference that puts its resource in a patient's compartment (compartment.ts): whose data the resource is. */
  patientLink: boolean;
}

/** Index rows of one resource, grouped by index table (rid is filled in by the repository). */
export interface IndexRows {
  string: { param: number; norm: string; exact: string }[];
  token: { param: number; system: string | null; code: string }[];
  reference: { param: number; targetType: string; targetId: string }[];
  date: { param: number; low: Date; high: Date }[];
  quantity: { param: number; value: number; system: string | null; code: string | null }[];
  uri: { param: number; value: string }[];
  /** The strings of CONTAINS_PARAMS that :contains searches (idx_string_contains). */
  contains: { param: number; norm: string }[];
  /**
   * Not an index table: the patients whose data the resource is (a Patient itself; otherwise every
   * Patient its compartment references name), kept on its resource row (`resource.patients`), where
   * access checks and audit entries read them.
   */
  patients: string[];
}

export function emptyRows(): IndexRows {
  return { string: [], token: [], reference: [], date: [], quantity: [], uri: [], contains: [], patients: [] };
}

/**
 * Parameters of our own, beside the R4 standard ones. Binary.securityContext says whose data a
 * Binary is (R4 defines no search parameter for it): indexed, it puts Binaries in their
 * patient's compartment, so reading one checks that patient like any clinical resource.
 */
export const PLATFORM_PARAMETERS: SearchParameter[] = [
  {
    resourceType: 'SearchParameter',
    url: 'https://fhir.cauyte.vn/SearchParameter/Binary-securitycontext',
    name: 'securitycontext',
    status: 'active',
    description: 'The resource (usually the Patient) whose access rules the Binary follows',
    code: 'securitycontext',
    base: ['Binary'],
    type: 'reference',
    expression: 'Binary.securityContext',
    target: ['Patient', 'DocumentReference', 'Encounter', 'Composition'],
  },
];

function standardParameters(resourceType: string): SearchParameter[] {
  const standard = Object.values(getSearchParameters(resourceType) ?? {}).filter(
    (sp) => sp.url?.startsWith(R4_URL) && INDEXED_TYPES.has(sp.type) && !RESOURCE_COLUMNS.has(sp.code),
  );
  return [...standard, ...PLATFORM_PARAMETERS.filter((sp) => (sp.base as string[]).includes(resourceType))];
}

export class SearchRegistry {
  private readonly byType = new Map<string, Map<string, SearchParam>>();
  private readonly byId = new Map<number, SearchParam>();
  /** Resource types that gained a parameter at this start (their existing resources need indexing for it). */
  readonly typesToReindex = new Set<string>();
  /** The patient compartment: for each resource type, the ids of its parameters that link it to a Patient (compartment.ts). */
  compartment = new Map<string, number[]>();

  /** Makes sure every standard parameter has a stable id in search_param, then loads them. */
  static async load(db: Db): Promise<SearchRegistry> {
    const types = loadDefinitions();
    const added = new Set<string>();
    const wanted = [...types].sort().flatMap((t) => standardParameters(t).map((sp) => ({ t, sp })));
    const rows = await db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock(4242002)');
      const existing = await tx.query<{ id: number; resource_type: string; code: string }>('SELECT id, resource_type, code FROM search_param');
      const known = new Set(existing.rows.map((r) => `${r.resource_type}.${r.code}`));
      let next = existing.rows.reduce((m, r) => Math.max(m, r.id), 0) + 1;
      const missing = wanted.filter(({ t, sp }) => !known.has(`${t}.${sp.code}`));
      if (existing.rows.length > 0) for (const m of missing) added.add(m.t);
      if (missing.length > 0) {
        const ids = missing.map(() => next++);
        await tx.query(
          `INSERT INTO search_param (id, resource_type, code, type, expression)
           SELECT * FROM unnest($1::smallint[], $2::text[], $3::text[], $4::text[], $5::text[])`,
          [ids, missing.map((m) => m.t), missing.map((m) => m.sp.code), missing.map((m) => m.sp.type), missing.map((m) => m.sp.expression ?? '')],
        );
      }
      return (await tx.query<{ id: number; resource_type: string; code: string }>('SELECT id, resource_type, code FROM search_param')).rows;
    });
    const registry = SearchRegistry.fromIds(rows);
    for (const t of added) registry.typesToReindex.add(t);
    return registry;
  }

  /** The registry for parameter ids already assigned (what `load` read; a worker thread gets them from `ids()`). */
  static fromIds(rows: { id: number; resource_type: string; code: string }[]): SearchRegistry {
    const wanted = [...loadDefinitions()].sort().flatMap((t) => standardParameters(t).map((sp) => ({ t, sp })));
    const idOf = new Map(rows.map((r) => [`${r.resource_type}.${r.code}`, r.id]));
    const registry = new SearchRegistry();
    for (const { t, sp } of wanted) {
      const details = getSearchParameterDetails(t, sp);
      const param: SearchParam = {
        id: idOf.get(`${t}.${sp.code}`)!,
        resourceType: t,
        code: sp.code,
        type: sp.type as ParamType,
        expression: details.parsedExpression.toString(),
        targets: (sp.target ?? []) as string[],
        evaluate: compileExpression(t, details.parsedExpression as FhirPathAtom) ?? slowEvaluator(details.parsedExpression as FhirPathAtom),
        stored: [],
        contains: CONTAINS_PARAMS.includes(`${t}.${sp.code}`),
        patientLink: false,
      };
      if (!registry.byType.has(t)) registry.byType.set(t, new Map());
      registry.byType.get(t)!.set(sp.code, param);
      registry.byId.set(param.id, param);
    }
    const derived = derivedParams([...registry.byId.values()]);
    for (const p of registry.byId.values()) p.stored = derived.get(p.id) ?? [p.id];
    registry.compartment = patientCompartment(registry);
    for (const ids of registry.compartment.values()) for (const id of ids) registry.byId.get(id)!.patientLink = true;
    return registry;
  }

  /** Every parameter's id, as `fromIds` takes them. */
  ids(): { id: number; resource_type: string; code: string }[] {
    return [...this.byId.values()].map((p) => ({ id: p.id, resource_type: p.resourceType, code: p.code }));
  }

  get(resourceType: string, code: string): SearchParam | undefined {
    return this.byType.get(resourceType)?.get(code);
  }

  forType(resourceType: string): SearchParam[] {
    return [...(this.byType.get(resourceType)?.values() ?? [])];
  }

  all(): SearchParam[] {
    return [...this.byId.values()];
  }

  byParamId(id: number): SearchParam | undefined {
    return this.byId.get(id);
  }
}

function slowEvaluator(atom: FhirPathAtom): (r: Resource) => TypedValue[] {
  return (r) => evalFhirPathTyped(atom, [toTypedValue(r)]);
}

/** All index rows for one resource: none for derived parameters, identical rows once. */
export function extractIndexRows(resource: Resource, params: SearchParam[]): IndexRows {
  const rows = emptyRows();
  const containsIds = new Set<number>();
  const linkIds = new Set<number>();
  for (const p of params) {
    if (p.stored[0] !== p.id) continue;
    if (p.contains) containsIds.add(p.id);
    if (p.patientLink) linkIds.add(p.id);
    let values: TypedValue[];
    try {
      values = p.evaluate(resource);
    } catch {
      continue; // an expression that cannot apply to this instance yields no index values
    }
    for (const v of values) addValue(rows, p, v);
  }
  for (const k of ['string', 'token', 'reference', 'date', 'quantity', 'uri'] as const) (rows[k] as object[]) = dedupe(rows[k] as object[]);
  if (containsIds.size > 0) rows.contains = containsRows(rows.string, containsIds);
  rows.patients = patientsNamed(resource, rows.reference, linkIds);
  return rows;
}

/** Whose data a resource is: a Patient itself; otherwise the Patients its compartment references name. */
function patientsNamed(resource: Resource, references: IndexRows['reference'], linkIds: Set<number>): string[] {
  if (resource.resourceType === 'Patient') return resource.id ? [resource.id] : [];
  if (linkIds.size === 0) return [];
  const ids = new Set<string>();
  for (const r of references) if (r.targetType === 'Patient' && linkIds.has(r.param)) ids.add(r.targetId);
  return [...ids];
}

function addValue(rows: IndexRows, p: SearchParam, tv: TypedValue): void {
  const { type, value } = tv;
  if (value === undefined || value === null) return;
  switch (p.type) {
    case 'string':
      for (const s of stringsOf(type, value)) {
        const exact = nfc(s);
        const norm = foldText(s);
        if (norm) rows.string.push({ param: p.id, norm, exact });
      }
      return;
    case 'token':
      for (const t of tokensOf(type, value)) rows.token.push({ param: p.id, ...t });
      return;
    case 'reference': {
      const ref = referenceOf(type, value);
      if (ref) rows.reference.push({ param: p.id, ...ref });
      return;
    }
    case 'date':
      for (const r of datesOf(type, value)) rows.date.push({ param: p.id, ...r });
      return;
    case 'quantity':
    case 'number':
      for (const q of quantitiesOf(type, value)) rows.quantity.push({ param: p.id, ...q });
      return;
    case 'uri':
      if (typeof value === 'string') rows.uri.push({ param: p.id, value });
      return;
  }
}

function strings(...xs: unknown[]): string[] {
  return xs.flat().filter((x): x is string => typeof x === 'string' && x.trim().length > 0);
}

/** String search matches the start of any part, and the full name in either order. */
function stringsOf(type: string, v: any): string[] {
  if (typeof v === 'string') return [v];
  if (type === 'HumanName') {
    const given = strings(v.given);
    const full = [strings(v.family, given).join(' '), strings(given, v.family).join(' ')];
    return [...new Set(strings(v.text, v.family, given, v.prefix, v.suffix, full))];
  }
  if (type === 'Address') {
    const lines = strings(v.line);
    return [
      ...new Set(
        strings(v.text, lines, v.city, v.district, v.state, v.postalCode, v.country, strings(lines, v.city, v.district, v.state, v.country).join(', ')),
      ),
    ];
  }
  if (type === 'CodeableConcept')
    return strings(
      v.text,
      (v.coding ?? []).map((c: any) => c.display),
    );
  if (type === 'Coding') return strings(v.display);
  return [];
}

function tokensOf(type: string, v: any): { system: string | null; code: string }[] {
  switch (type) {
    case 'Coding':
      return v.code ? [{ system: v.system ?? null, code: String(v.code) }] : [];
    case 'CodeableConcept':
      return (v.coding ?? []).flatMap((c: any) => tokensOf('Coding', c));
    case 'Identifier':
      return v.value ? [{ system: v.system ?? null, code: String(v.value) }] : [];
    case 'ContactPoint':
      return v.value ? [{ system: v.system ?? null, code: String(v.value) }] : [];
    case 'boolean':
      return [{ system: null, code: v ? 'true' : 'false' }];
    default:
      return typeof v === 'string' || typeof v === 'number' ? [{ system: null, code: String(v) }] : [];
  }
}

export interface ParsedReference {
  targetType: string;
  targetId: string;
}

/** "Patient/1", "http://host/fhir/R4/Patient/1/_history/2" → Patient, 1. Canonicals keep their URL. */
export function parseReference(ref: string): ParsedReference | undefined {
  if (ref.startsWith('#') || ref.startsWith('urn:')) return undefined;
  const m = /(?:^|\/)([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[^/]+)?$/.exec(ref);
  return m ? { targetType: m[1], targetId: m[2] } : undefined;
}

function referenceOf(type: string, v: any): ParsedReference | undefined {
  if (type === 'Reference') return typeof v.reference === 'string' ? parseReference(v.reference) : undefined;
  if (typeof v === 'string') return parseReference(v) ?? { targetType: '', targetId: v };
  return undefined;
}

function datesOf(type: string, v: any): { low: Date; high: Date }[] {
  if (typeof v === 'string') {
    const r = parseDateRange(v);
    return r ? [r] : [];
  }
  if (type === 'Period') {
    const start = v.start ? parseDateRange(v.start) : undefined;
    const end = v.end ? parseDateRange(v.end) : undefined;
    if (!start && !end) return [];
    return [{ low: start?.low ?? MIN_DATE, high: end?.high ?? MAX_DATE }];
  }
  if (type === 'Timing') {
    const events = (v.event ?? []).flatMap((e: string) => datesOf('dateTime', e));
    const bounds = v.repeat?.boundsPeriod ? datesOf('Period', v.repeat.boundsPeriod) : [];
    return [...events, ...bounds];
  }
  return [];
}

/** Open ends of a Period: far enough for any real record, representable by every database. */
export const MIN_DATE = new Date('0001-01-01T00:00:00Z');
export const MAX_DATE = new Date('9999-12-31T23:59:59.999Z');

function quantitiesOf(type: string, v: any): { value: number; system: string | null; code: string | null }[] {
  if (typeof v === 'number') return [{ value: v, system: null, code: null }];
  if (type === 'Money') return typeof v.value === 'number' ? [{ value: v.value, system: 'urn:iso:std:iso:4217', code: v.currency ?? null }] : [];
  if (typeof v === 'object' && typeof v.value === 'number') {
    return [{ value: v.value, system: v.system ?? null, code: v.code ?? v.unit ?? null }];
  }
  return [];
}
