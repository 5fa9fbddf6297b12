/**
 * Every write is validated against the R4 StructureDefinitions and against our own rules for
 * Vietnamese identifiers and content rules (content-safety.ts). A failure is a 400
 * OperationOutcome naming each problem.
 * The structure check (cardinality, types, formats, required elements, invariants) is the compiled
 * validator (validator-compile.ts / validator-run.ts), which gives the same issues as
 * @medplum/core's validator; for what it does not reproduce exactly it falls back to @medplum/core
 * (counted in validationStats). medplumStructureIssues is kept for that and for the equivalence test.
 */
import { validateResource as validateR4 } from '@medplum/core';
import type { Identifier, OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { BHYT_SYSTEM, CCCD_SYSTEM, checkBhyt, checkCccd } from '../terminology/identifiers.ts';
import { conformanceIssues } from './conformance.ts';
import { contentSafetyIssues } from './content-safety.ts';
import { loadDefinitions, isResourceType } from './definitions.ts';
import { badRequest, invalidResource } from './outcome.ts';
import { compiledIssues } from './validator-run.ts';

export function assertValidResource(resource: unknown, expectedType?: string): asserts resource is Resource {
  loadDefinitions();
  if (typeof resource !== 'object' || resource === null || Array.isArray(resource)) {
    throw badRequest('The body must be a JSON object holding one FHIR resource');
  }
  const type = (resource as { resourceType?: unknown }).resourceType;
  if (typeof type !== 'string' || !isResourceType(type)) {
    throw badRequest(`Unknown or missing resourceType: ${JSON.stringify(type ?? null)}`, ['resourceType']);
  }
  if (expectedType && type !== expectedType) {
    throw badRequest(`resourceType "${type}" does not match the URL's type "${expectedType}"`, ['resourceType']);
  }
  const issues = structureIssues(resource as Resource);
  issues.push(...conformanceIssues(resource as Resource));
  issues.push(...contentSafetyIssues(resource as Resource));
  issues.push(...vietnameseIdentifierIssues(resource as Resource));
  if (issues.length > 0) throw invalidResource(issues);
}

const stats = { compiled: 0, fallbacks: 0 };
/** CAUYTE_VALIDATOR=medplum: the previous validator only (the benchmark's "before" side; a way back). */
const MEDPLUM_ONLY = process.env.CAUYTE_VALIDATOR === 'medplum';

/** How many resources the compiled validator checked, and how many it left to @medplum/core. */
export function validationStats(): { compiled: number; fallbacks: number } {
  return { ...stats };
}

/**
 * The structure issues of a resource whose resourceType is known: compiled, else @medplum/core's;
 * with the platform's stricter rules (validator-run.ts compiledIssues) unless strict is false.
 */
export function structureIssues(resource: Resource, opts: { strict?: boolean } = {}): OperationOutcomeIssue[] {
  if (MEDPLUM_ONLY) return medplumStructureIssues(resource);
  const strict: OperationOutcomeIssue[] = [];
  const issues = compiledIssues(resource, loadDefinitions(), opts.strict === false ? undefined : strict);
  if (!issues) {
    stats.fallbacks++;
    return medplumStructureIssues(resource);
  }
  stats.compiled++;
  // @medplum/core returns only when nothing is an error (then we keep errors only, i.e. none) and
  // otherwise throws with every issue, warnings included.
  const found = issues.some((i) => i.severity === 'error') ? issues.map(withDiagnostics) : [];
  return strict.length ? [...found, ...strict.map(withDiagnostics)] : found;
}

/** @medplum/core's validator, as the write path used it before the compiled one. */
export function medplumStructureIssues(resource: Resource): OperationOutcomeIssue[] {
  try {
    return validateR4(resource)
      .filter((i) => i.severity === 'error' || i.severity === 'fatal')
      .map(withDiagnostics);
  } catch (err) {
    // The validator throws (with every issue it found) for malformed primitives and JSON types.
    const outcome = (err as { outcome?: { issue?: OperationOutcomeIssue[] } }).outcome;
    if (!outcome?.issue?.length) throw badRequest(`Invalid ${resource.resourceType}: ${(err as Error).message}`);
    return outcome.issue.map(withDiagnostics);
  }
}

const PERSON_TYPES = new Set(['Patient', 'Practitioner', 'RelatedPerson', 'Person']);

export function vietnameseIdentifierIssues(resource: Resource): OperationOutcomeIssue[] {
  const identifiers = (resource as { identifier?: Identifier[] | Identifier }).identifier;
  const list = Array.isArray(identifiers) ? identifiers : identifiers ? [identifiers] : [];
  const person = PERSON_TYPES.has(resource.resourceType)
    ? { birthDate: (resource as { birthDate?: string }).birthDate, gender: (resource as { gender?: string }).gender }
    : {};
  const issues: OperationOutcomeIssue[] = [];
  list.forEach((id, index) => {
    if (!id || typeof id !== 'object') return; // not an Identifier: the structure check reports it
    const value = id.value ?? '';
    const problem = id.system === CCCD_SYSTEM ? checkCccd(value, person) : id.system === BHYT_SYSTEM ? checkBhyt(value) : undefined;
    if (problem) {
      issues.push({
        severity: 'error',
        code: 'value',
        details: { text: problem },
        diagnostics: problem,
        expression: [`${resource.resourceType}.identifier[${index}].value`],
      });
    }
  });
  return issues;
}

/** Puts the element path into the message itself, for clients that only show diagnostics. */
function withDiagnostics(i: OperationOutcomeIssue): OperationOutcomeIssue {
  const where = i.expression?.[0];
  const text = i.details?.text ?? i.diagnostics ?? 'Invalid value';
  return { ...i, diagnostics: where && !text.includes(where) ? `${text} (${where})` : text };
}
