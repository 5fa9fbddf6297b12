/**
 * Compiles the R4 type schemas (the StructureDefinitions as @medplum/core indexed them, so both
 * validators read the very same element tables) into plans for the compiled validator
 * (validator-run.ts): per type, its elements in definition order with their JSON property names,
 * cardinality, primitive JSON types and format regexes, reference targets and precompiled
 * invariant expressions, and a map from every JSON key to its element.
 * Rules: a plan must never disagree with @medplum/core's validator. Whatever a plan cannot express
 * exactly (fixed/pattern values, slicing, keys that also read as a choice type) is marked so the
 * run falls back to the @medplum/core validator for that resource.
 */
import { fhirTypeToJsType, parseFhirPath, tryGetDataType, validationRegexes } from '@medplum/core';
import type { FhirPathAtom, InternalSchemaElement, InternalTypeSchema } from '@medplum/core';

/** Invariants @medplum/core does not check (validation.ts skippedConstraintKeys). */
const SKIPPED_CONSTRAINTS = new Set(['ele-1', 'dom-3', 'org-1', 'sdf-19']);

export interface CompiledConstraint {
  key: string;
  atom: FhirPathAtom;
  /** An exact shortcut for the commonest invariants: true when it holds, undefined to evaluate the expression. */
  quick?: (value: unknown) => true | undefined;
  constraint: NonNullable<InternalSchemaElement['constraints']>[number];
}

export interface Candidate {
  /** JSON property name (valueQuantity, birthDate). */
  name: string;
  /** The FHIR type of a value found under this name (after Element/BackboneElement resolution). */
  type: string;
  primitive: boolean;
  jsType?: 'string' | 'number' | 'boolean';
  regex?: RegExp;
}

export interface CompiledElement {
  index: number;
  key: string;
  el: InternalSchemaElement;
  min: number;
  max: number;
  isArray: boolean;
  candidates: Candidate[];
  constraints: CompiledConstraint[];
  /** Reference target profiles when one of the types is Reference. */
  refTargets?: string[];
  /** fixed/pattern/slicing: not compiled, the run falls back when a value is present. */
  unsupported: boolean;
  choice: boolean;
}

export interface KeyHit {
  element: CompiledElement;
  candidate: number;
  /** The `_name` sibling holding a primitive's id/extensions. */
  ext: boolean;
  /** This key also reads as a choice-type property in @medplum/core's unknown-property check. */
  ambiguous: boolean;
}

export interface CompiledType {
  name: string;
  schema: InternalTypeSchema;
  path: string;
  elements: CompiledElement[];
  required: CompiledElement[];
  keys: Map<string, KeyHit>;
  rootConstraints: CompiledConstraint[];
}

const compiled = new Map<string, CompiledType | null>();

/** The plan for a type (lazily, once per process); undefined for a type @medplum/core does not know. */
export function compiledType(name: string): CompiledType | undefined {
  let c = compiled.get(name);
  if (c === undefined) {
    const schema = tryGetDataType(name);
    c = schema ? compile(name, schema) : null;
    compiled.set(name, c);
  }
  return c ?? undefined;
}

export function isPrimitiveCode(code: string): boolean {
  return code === 'undefined' || code in fhirTypeToJsType;
}

function compileConstraints(list: InternalSchemaElement['constraints']): CompiledConstraint[] {
  return (list ?? [])
    .filter((c) => c.severity === 'error' && !SKIPPED_CONSTRAINTS.has(c.key))
    .map((c) => ({ key: c.key, atom: parseFhirPath(c.expression), constraint: c, quick: QUICK[c.expression] }));
}

/**
 * For invariants of the form `a.empty() or b.empty()` (or one `a.…empty()`): true when the object
 * has no key starting with one of the names (or `_name`), since FHIRPath then finds nothing there.
 */
function absentAny(...names: string[]): (v: unknown) => true | undefined {
  return (v) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
    const seen = names.map(() => false);
    for (const k of Object.keys(v)) {
      const bare = k.startsWith('_') ? k.slice(1) : k;
      for (let i = 0; i < names.length; i++) if (bare.startsWith(names[i])) seen[i] = true;
    }
    return seen.includes(false) ? true : undefined;
  };
}

/**
 * ext-1 (`extension.exists() != value.exists()`) on a plain extension: nested extensions xor one
 * non-empty value[x]. Anything unusual (`_value…`, `_extension`, empty values, several values) is evaluated.
 */
function ext1(v: unknown): true | undefined {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return undefined;
  const ext = compiledType('Extension');
  if (!ext) return undefined;
  let values = 0;
  let nested = false;
  for (const k in v) {
    const x = (v as Record<string, unknown>)[k];
    if (k === 'extension') {
      // FHIRPath's exists() wants every item non-empty.
      if (!Array.isArray(x) || x.length === 0) return undefined;
      for (const item of x) if (typeof item !== 'object' || item === null || Array.isArray(item) || Object.keys(item).length === 0) return undefined;
      nested = true;
    } else if (k.startsWith('_')) return undefined;
    else if (ext.keys.get(k)?.element.key === 'value[x]') {
      if (x === null || x === undefined || x === '' || Array.isArray(x) || (typeof x === 'object' && Object.keys(x).length === 0)) return undefined;
      values++;
    }
  }
  return values <= 1 && nested !== (values === 1) ? true : undefined;
}

const QUICK: Record<string, (value: unknown) => true | undefined> = {
  'contained.contained.empty()': absentAny('contained'),
  'contained.meta.versionId.empty() and contained.meta.lastUpdated.empty()': absentAny('contained'),
  'contained.meta.security.empty()': absentAny('contained'),
  'dataAbsentReason.empty() or value.empty()': absentAny('dataAbsentReason', 'value'),
  'value.empty() or component.code.where(coding.intersect(%resource.code.coding).exists()).empty()': absentAny('value', 'component'),
  'detail.empty() or reference.empty()': absentAny('detail', 'reference'),
  "abatement.empty() or clinicalStatus.coding.where(system='http://terminology.hl7.org/CodeSystem/condition-clinical' and (code='resolved' or code='remission' or code='inactive')).exists()":
    absentAny('abatement'),
  'extension.exists() != value.exists()': ext1,
};

function capitalize(word: string): string {
  return word ? word.charAt(0).toUpperCase() + word.substring(1) : '';
}

/** @medplum/core's isChoiceOfType key split: the choice element a JSON key reads as, if any. */
export function choiceElementFor(key: string, elements: Record<string, InternalSchemaElement>): string | undefined {
  const bare = key.startsWith('_') ? key.slice(1) : key;
  let test = '';
  for (const part of bare.split(/(?=[A-Z])/g)) {
    test += part;
    if (elements[test + '[x]']) return test + '[x]';
  }
  return undefined;
}

function compile(name: string, schema: InternalTypeSchema): CompiledType {
  const elements: CompiledElement[] = [];
  const keys = new Map<string, KeyHit>();
  let index = 0;
  for (const [key, el] of Object.entries(schema.elements)) {
    const last = el.path.substring(el.path.lastIndexOf('.') + 1);
    const candidates: Candidate[] = (el.type ?? []).map((t) => {
      let type = t.code;
      if (type === 'Element' || type === 'BackboneElement') type = el.type[0].code;
      const primitive = isPrimitiveCode(type);
      return {
        name: last.replace('[x]', capitalize(t.code)),
        type,
        primitive,
        jsType: primitive ? fhirTypeToJsType[type as keyof typeof fhirTypeToJsType] : undefined,
        regex: primitive ? validationRegexes[type] : undefined,
      };
    });
    const ref = el.type?.find((t) => t.code === 'Reference');
    const ce: CompiledElement = {
      index: index++,
      key,
      el,
      min: el.min,
      max: el.max,
      isArray: !!el.isArray,
      candidates,
      constraints: compileConstraints(el.constraints),
      refTargets: ref?.targetProfile,
      unsupported: !!(el.fixed || el.pattern || el.slicing),
      choice: key.endsWith('[x]'),
    };
    elements.push(ce);
    candidates.forEach((c, i) => {
      for (const ext of [false, true]) {
        if (ext && !c.primitive) continue;
        const jsonKey = (ext ? '_' : '') + c.name;
        if (keys.has(jsonKey)) {
          // Two candidates share a JSON name: not something the plan expresses.
          keys.get(jsonKey)!.ambiguous = true;
          continue;
        }
        const choiceName = choiceElementFor(jsonKey, schema.elements);
        // A plain element read under another name than its key would be an unknown property to @medplum/core.
        const ambiguous = ce.choice ? choiceName !== key : choiceName !== undefined || c.name !== key;
        keys.set(jsonKey, { element: ce, candidate: i, ext, ambiguous });
      }
    });
  }
  return {
    name,
    schema,
    path: schema.path,
    elements,
    required: elements.filter((e) => e.min > 0),
    keys,
    rootConstraints: compileConstraints(schema.constraints),
  };
}
