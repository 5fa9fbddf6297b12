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
import { fhirTypeToJsType, getDataType, parseFhirPath, tryGetDataType, validationRegexes } from '@medplum/core';
import type { FhirPathAtom, InternalSchemaElement, InternalTypeSchema } from '@medplum/core';

/** Invariants @medplum/core does not check (validation.ts skippedConstraintKeys). */
const SKIPPED_CONSTRAINTS = new Set(['ele-1', 'dom-3', 'org-1', 'sdf-19']);

export interface CompiledConstraint {
  key: string;
  atom: FhirPathAtom;
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
    .map((c) => ({ key: c.key, atom: parseFhirPath(c.expression), constraint: c }));
}

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
        keys.set(jsonKey, { element: ce, candidate: i, ext, ambiguous: ce.choice ? choiceName !== key : choiceName !== undefined });
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

/** Compiles every loaded type now (for startup or a test), returning how many plans exist. */
export function compileAll(typeNames: Iterable<string>): number {
  let n = 0;
  for (const t of typeNames) {
    getDataType(t);
    if (compiledType(t)) n++;
  }
  return n;
}
