/**
 * The compiled structure validator: walks a resource's JSON once with the plans of
 * validator-compile.ts and returns exactly the issues @medplum/core's validateResource collects
 * (same severity, code, expression, text and order), or undefined when the resource holds
 * something the plans do not reproduce exactly (nulls, odd primitive extensions, conflicting or
 * extended choice types, fixed/pattern/sliced elements, non-object complex values, unknown
 * contained types) so the caller falls back to @medplum/core. Invariants are the same FHIRPath
 * expressions, parsed once and evaluated by @medplum/core's engine with the same variables.
 * Rules: order of checks and issues mirrors @medplum/core's crawler (validator.equivalence.test.ts
 * compares both on real and mutated data); when in doubt, bail out.
 */
import {
  createConstraintIssue,
  createOperationOutcomeIssue,
  createProcessingIssue,
  createStructureIssue,
  evalFhirPathTyped,
  HTTP_HL7_ORG,
  toTypedValue,
  UCUM,
} from '@medplum/core';
import type { TypedValue } from '@medplum/core';
import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { choiceElementFor, compiledType, isPrimitiveCode } from './validator-compile.ts';
import type { CompiledConstraint, CompiledElement, CompiledType } from './validator-compile.ts';

const BAIL = Symbol('bail');
const UCUM_VALUE = toTypedValue(UCUM);
const HL7_SD = HTTP_HL7_ORG + '/fhir/StructureDefinition/';
const HL7_RESOURCE = HL7_SD + 'Resource';
const MEDPLUM_SD = 'https://medplum.com/fhir/StructureDefinition/';
const MAX_STRING = 1024 * 1024;

type Json = Record<string, unknown>;

interface Pending {
  constraints: CompiledConstraint[];
  from: number;
  value: TypedValue;
  path: string;
  resource: Json;
  /** How many walk issues came before it. */
  at: number;
}

interface Ctx {
  issues: OperationOutcomeIssue[];
  pending: Pending[];
  resources: Json[];
  root: TypedValue;
  element: CompiledType;
  resourceTypes: Set<string>;
  /** Our stricter rules (not @medplum/core's), collected apart so the equivalence test can compare. */
  strict?: OperationOutcomeIssue[];
}

interface Slot {
  el: CompiledElement;
  cand: number;
  hasVal: boolean;
  hasExt: boolean;
  /** A choice element whose value is empty: its key is then an unknown property. */
  empty: boolean;
}

/** Why resources went back to @medplum/core (reason → count), for tests and tuning. */
export const fallbackReasons = new Map<string, number>();

function bail(reason = 'other'): never {
  fallbackReasons.set(reason, (fallbackReasons.get(reason) ?? 0) + 1);
  throw BAIL;
}

/** The issues @medplum/core's validator would collect, or undefined to fall back to it. */
/**
 * strict, when given, receives the platform's stricter findings that @medplum/core accepts: a JSON
 * object where a primitive value belongs, or a number, boolean or string where a complex type
 * belongs (either would slip past code bindings, identifier rules and the search index).
 */
export function compiledIssues(resource: Resource, resourceTypes: Set<string>, strict?: OperationOutcomeIssue[]): OperationOutcomeIssue[] | undefined {
  const type = compiledType(resource.resourceType);
  const element = compiledType('Element');
  if (!type || !element) return undefined;
  const root = toTypedValue(resource);
  const ctx: Ctx = { issues: [], pending: [], resources: [resource as unknown as Json], root, element, resourceTypes, strict };
  try {
    checkConstraints(ctx, type.rootConstraints, root, type.path);
    walkObject(ctx, resource as unknown as Json, type, type.path, type.path);
  } catch (err) {
    if (err === BAIL) return undefined;
    throw err;
  }
  return withInvariants(ctx);
}

function isEmptyValue(v: unknown): boolean {
  if (v === null || v === undefined) return true;
  if (typeof v === 'string') return v === '';
  if (typeof v === 'object') {
    return !(('length' in (v as object) && (v as { length: number }).length > 0) || Object.keys(v as object).length > 0);
  }
  return false;
}

function isPlainObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * A string, number or boolean where a complex type belongs: @medplum/core finds none of the type's
 * properties on it (each required one is missing) and reports a string's character indexes as
 * unknown properties. Unless a property name is also a method of the JS value (String#link...).
 */
function primitiveAsComplex(ctx: Ctx, v: string | number | boolean, typeName: string, objPath: string): void {
  const type = compiledType(typeName);
  if (!type || isPrimitiveCode(typeName)) bail('complex-not-object');
  const wrapper = Object(v) as object;
  for (const el of type.elements) for (const c of el.candidates) if (c.name in wrapper || '_' + c.name in wrapper) bail('complex-not-object');
  for (const el of type.required) missing(ctx, el, objPath);
  // Our stricter rule: @medplum/core accepts a number or boolean where a complex type belongs.
  ctx.strict?.push(createStructureIssue(objPath, `Invalid JSON type: expected an object (${typeName}), but got ${typeof v}`));
  if (typeof v === 'string') {
    for (let i = 0; i < v.length; i++) ctx.issues.push(createStructureIssue(`${objPath}.${i}`, `Invalid additional property "${i}"`));
  }
}

function byIndex(a: Slot, b: Slot): number {
  return a.el.index - b.el.index;
}

/** The type of a value as @medplum/core types it: a Resource element's value is its resourceType. */
function typeOf(v: unknown, type: string): string {
  return type === 'Resource' && typeof v === 'object' && 'resourceType' in (v as object) ? ((v as Json).resourceType as string) : type;
}

/** A primitive's `_name` object: only id/extension, at least one of them. */
function checkExtObject(ext: unknown): void {
  if (!isPlainObject(ext)) bail('ext-shape');
  let n = 0;
  for (const k in ext) {
    if (k !== 'id' && k !== 'extension') bail('ext-shape');
    n++;
  }
  if (n === 0) bail('ext-shape');
}

function walkObject(ctx: Ctx, obj: Json, type: CompiledType, path: string, objPath: string): void {
  const isResource = 'resourceType' in obj;
  if (isResource) ctx.resources.push(obj);
  const keys = Object.keys(obj);
  const present: Slot[] = [];
  let unknown = false;
  for (const key of keys) {
    const hit = type.keys.get(key);
    if (!hit) {
      if (key !== 'resourceType') unknown = true;
      else noNulls(obj[key]);
      continue;
    }
    if (hit.ambiguous || hit.element.unsupported || (hit.ext && hit.element.choice)) bail('ambiguous-key');
    let slot: Slot | undefined;
    for (const s of present) if (s.el === hit.element) slot = s;
    if (!slot) {
      slot = { el: hit.element, cand: hit.candidate, hasVal: false, hasExt: false, empty: false };
      present.push(slot);
    } else if (slot.cand !== hit.candidate) bail('choice-conflict');
    if (hit.ext) slot.hasExt = true;
    else slot.hasVal = true;
  }
  if (present.length > 1) present.sort(byIndex);
  const required = type.required;
  let ri = 0;
  for (const slot of present) {
    while (ri < required.length && required[ri].index < slot.el.index) missing(ctx, required[ri++], objPath);
    if (ri < required.length && required[ri].index === slot.el.index) ri++;
    visit(ctx, obj, slot, path, objPath);
  }
  while (ri < required.length) missing(ctx, required[ri++], objPath);
  let empty = false;
  for (const s of present) if (s.empty) empty = true;
  if (unknown || empty) additionalProperties(ctx, obj, keys, type, present, objPath);
  if (isResource) ctx.resources.pop();
}

function missing(ctx: Ctx, el: CompiledElement, objPath: string): void {
  ctx.issues.push(createStructureIssue(`${objPath}.${el.key}`, 'Missing required property'));
}

function additionalProperties(ctx: Ctx, obj: Json, keys: string[], type: CompiledType, present: Slot[], objPath: string): void {
  const elements = type.schema.elements;
  for (const key of keys) {
    if (key === 'resourceType') continue;
    const hit = type.keys.get(key);
    if (hit) {
      if (hit.element.choice && present.find((s) => s.el === hit.element)?.empty) {
        ctx.issues.push(createStructureIssue(`${objPath}.${key}`, `Invalid additional property "${key}"`));
      }
      continue;
    }
    // @medplum/core reads these through its property getters (and may merge into them): leave them to it.
    // (A `_valueX` alone is read as value[x] too.)
    if (key.startsWith('_') && (key.slice(1) in elements || choiceElementFor(key, elements))) bail('unknown-ext-or-choice-key');
    const choice = choiceElementFor(key, elements);
    if (choice) {
      // Read as that choice element when it holds a value (then conflicts are warned about): leave that to it.
      const slot = present.find((s) => s.el.key === choice);
      if (slot && !slot.empty) bail('unknown-ext-or-choice-key');
    }
    noNulls(obj[key]);
    if (!(key in elements)) {
      ctx.issues.push(createStructureIssue(`${objPath}.${key}`, `Invalid additional property "${key}"`));
    }
  }
}

/** A null anywhere gets @medplum/core's null checks: fall back. */
function noNulls(v: unknown): void {
  if (v === null) bail('null');
  if (Array.isArray(v)) {
    for (const x of v) {
      if (x === null || x === undefined) bail('null');
      noNulls(x);
    }
  } else if (typeof v === 'object') {
    for (const k in v as Json) noNulls((v as Json)[k]);
  }
}

function visit(ctx: Ctx, obj: Json, slot: Slot, parentPath: string, objPath: string): void {
  const el = slot.el;
  const cand = el.candidates[slot.cand];
  const raw = slot.hasVal ? obj[cand.name] : undefined;
  const ext = slot.hasExt ? obj['_' + cand.name] : undefined;
  if (slot.hasVal && (raw === null || raw === undefined)) bail('null');
  let value: unknown = raw;
  if (ext !== undefined) value = mergeExtension(raw, ext);
  else if (isEmptyValue(raw)) {
    slot.empty = el.choice;
    if (el.min > 0) missing(ctx, el, objPath);
    return;
  }
  const path = `${parentPath}.${el.key}`;
  const isArr = Array.isArray(value);
  const values = isArr ? (value as unknown[]) : [value];
  for (const v of values) if (v === null || v === undefined) bail('null');
  let visitValues = true;
  if (el.isArray && !isArr) {
    ctx.issues.push(createStructureIssue(path, 'Expected array of values for property'));
    visitValues = false;
  } else if (!el.isArray && isArr) {
    ctx.issues.push(createStructureIssue(path, 'Expected single value for property'));
    visitValues = false;
  }
  const single = `${objPath}.${el.key}`;
  if (visitValues) {
    const n = values.length;
    if (n < el.min || n > el.max) {
      ctx.issues.push(
        createStructureIssue(el.el.path, `Invalid number of values: expected ${el.min}..${Number.isFinite(el.max) ? el.max : '*'}, but found ${n}`),
      );
    }
    for (let i = 0; i < n; i++) {
      const v = values[i];
      const vp = isArr ? `${single}[${i}]` : single;
      const tv: TypedValue = { type: typeOf(v, cand.type), value: v };
      if (el.constraints.length) checkConstraints(ctx, el.constraints, tv, vp);
      if (tv.type === 'Reference' && el.refTargets) referenceCheck(ctx, v, el.refTargets, vp);
      if (cand.primitive) primitive(ctx, v, cand.type, cand.jsType!, cand.regex, vp, ext === undefined ? undefined : Array.isArray(ext) ? ext[i] : ext);
      else if (isEmptyValue(v)) ctx.issues.push(createStructureIssue(vp, 'Invalid empty non-primitive value'));
    }
  }
  if (cand.primitive) {
    if (!visitValues) for (const v of values) noNulls(v);
    return;
  }
  const childPath = path;
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') {
      primitiveAsComplex(ctx, v, cand.type, isArr ? `${single}[${i}]` : single);
      continue;
    }
    if (!isPlainObject(v)) bail('complex-not-object');
    const t = typeOf(v, cand.type);
    if (cand.type === 'Resource' && !ctx.resourceTypes.has(t)) bail('contained-type');
    const childType = compiledType(t);
    if (!childType || isPrimitiveCode(t)) bail('contained-type');
    walkObject(ctx, v, childType, childPath, isArr ? `${single}[${i}]` : single);
  }
}

/** A primitive with its `_name` sibling, boxed as @medplum/core's property getter boxes it. */
function mergeExtension(raw: unknown, ext: unknown): unknown {
  if (Array.isArray(ext)) {
    if (!Array.isArray(raw) || raw.length !== ext.length) bail('ext-array');
    return raw.map((r, i) => {
      const e = ext[i];
      if (r === null || r === undefined || typeof r === 'object') bail('ext-array');
      if (e === null) {
        if (!r) bail('ext-array'); // @medplum/core's null check reads the partner value's truthiness
        return r;
      }
      checkExtObject(e);
      return Object.assign(r as object, e);
    });
  }
  checkExtObject(ext);
  if (raw !== undefined && (typeof raw === 'object' || raw === null)) bail('ext-shape');
  return Object.assign((raw ?? {}) as object, ext);
}

/**
 * Invariants: the exact shortcuts now; the FHIRPath ones are queued and evaluated only once the
 * walk finished without falling back, because @medplum/core's property getter can write into the
 * input (it merges `_x` siblings into object values) and a fallback must see the resource untouched.
 */
function checkConstraints(ctx: Ctx, constraints: CompiledConstraint[], value: TypedValue, path: string): void {
  for (let i = 0; i < constraints.length; i++) {
    if (constraints[i].quick?.(value.value)) continue;
    ctx.pending.push({ constraints, from: i, value, path, resource: ctx.resources[ctx.resources.length - 1], at: ctx.issues.length });
    return;
  }
}

function evaluatePending(ctx: Ctx, p: Pending, out: OperationOutcomeIssue[]): void {
  for (let i = p.from; i < p.constraints.length; i++) {
    const c = p.constraints[i];
    if (i > p.from && c.quick?.(p.value.value)) continue;
    const variables: Record<string, TypedValue> = {
      '%context': p.value,
      '%ucum': UCUM_VALUE,
      '%resource': toTypedValue(p.resource),
      '%rootResource': ctx.root,
    };
    let ok: boolean;
    try {
      const result = evalFhirPathTyped(c.atom, [p.value], variables);
      ok = result.length === 1 && result[0].value === true;
    } catch (e) {
      out.push(createProcessingIssue(p.path, 'Error evaluating invariant expression', e as Error, { fhirpath: c.constraint.expression }));
      ok = false;
    }
    if (!ok) {
      out.push(createConstraintIssue(p.path, c.constraint));
      return;
    }
  }
}

/** The walk's issues with each queued invariant's issues put back where @medplum/core reports them. */
function withInvariants(ctx: Ctx): OperationOutcomeIssue[] {
  if (ctx.pending.length === 0) return ctx.issues;
  const out: OperationOutcomeIssue[] = [];
  let next = 0;
  for (const p of ctx.pending) {
    while (next < p.at) out.push(ctx.issues[next++]);
    evaluatePending(ctx, p, out);
  }
  while (next < ctx.issues.length) out.push(ctx.issues[next++]);
  return out;
}

function referenceCheck(ctx: Ctx, ref: unknown, targets: string[], path: string): void {
  if (!ref || typeof ref !== 'object' || !('reference' in ref) || typeof ref.reference !== 'string') return;
  const reference = ref.reference;
  if (reference.startsWith('#')) return;
  const rt = reference.includes('?') ? reference.split('?')[0] : reference.split('/')[0];
  if (!rt) return;
  for (const target of targets) {
    if (target === HL7_RESOURCE || target === HL7_SD + rt || target === MEDPLUM_SD + rt) return;
    if (!target.startsWith(HL7_SD) && !target.startsWith(MEDPLUM_SD)) return;
  }
  ctx.issues.push(createOperationOutcomeIssue('warning', 'structure', `Invalid reference: got "${rt}", expected "${targets.join('", "')}"`, path));
}

function primitive(ctx: Ctx, boxed: unknown, type: string, jsType: string, regex: RegExp | undefined, path: string, ext: unknown): void {
  // A plain object where a primitive belongs: @medplum/core reads it as an Element (id, extension).
  if (ext === undefined && typeof boxed === 'object') {
    const o = boxed as Json;
    if (Array.isArray(o) || typeof o.valueOf !== 'function' || o.valueOf() !== o) bail('object-as-primitive');
    ctx.strict?.push(
      createStructureIssue(path, `Invalid JSON type: expected ${jsType}, but got object (a primitive's id and extensions go in its "_" property)`),
    );
    walkObject(ctx, o, ctx.element, path, path);
    return;
  }
  // Unboxed value; a lone `_name` (no value) has only its extensions checked.
  const hasValue = ext === undefined || ext === null || (typeof boxed === 'object' && boxed !== null && boxed.valueOf() !== boxed);
  const v = typeof boxed === 'object' && boxed !== null ? boxed.valueOf() : boxed;
  if (hasValue) {
    if (typeof v === 'object') bail('object-as-primitive');
    if (typeof v !== jsType) {
      ctx.issues.push(createStructureIssue(path, `Invalid JSON type: expected ${jsType}, but got ${typeof v}`));
      return;
    }
    if (jsType === 'string') {
      const s = v as string;
      if (!s.trim()) ctx.issues.push(createStructureIssue(path, 'String must contain non-whitespace content'));
      else if (s.length > MAX_STRING) ctx.issues.push(createStructureIssue(path, 'String cannot be larger than 1 MB'));
      else if (regex && !regex.exec(s)) ctx.issues.push(createStructureIssue(path, 'Invalid ' + type + ' format'));
    } else if (jsType === 'number') {
      const n = v as number;
      if (Number.isNaN(n) || !Number.isFinite(n)) ctx.issues.push(createStructureIssue(path, 'Invalid numeric value'));
      else if ((type === 'integer' || type === 'positiveInt' || type === 'unsignedInt') && !Number.isInteger(n)) {
        ctx.issues.push(createStructureIssue(path, 'Expected number to be an integer'));
      } else if (type === 'positiveInt' && n <= 0) ctx.issues.push(createStructureIssue(path, 'Expected number to be positive'));
      else if (type === 'unsignedInt' && n < 0) ctx.issues.push(createStructureIssue(path, 'Expected number to be non-negative'));
    }
  }
  if (ext !== undefined && ext !== null) walkObject(ctx, ext as Json, ctx.element, path, path);
}
