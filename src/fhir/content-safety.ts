/**
 * Content rules no StructureDefinition states, checked on every write after the structure
 * validator (src/fhir/validate.ts). A failure is an error issue in the 400 OperationOutcome.
 * - No property may be named after a member of JavaScript's Object.prototype (`__proto__`,
 *   `constructor`, `toString`, …): no FHIR element has such a name, and code that reads
 *   resources as plain objects would see inherited members where data belongs.
 * - Narrative XHTML (`text.div`, and any Narrative's `div`) follows the R4 narrative rules
 *   (https://hl7.org/fhir/R4/narrative.html#xhtml): no scripts, forms, frames, objects, head/body,
 *   base/link/meta, no event attributes (`onclick`…), no `javascript:`/`vbscript:` URLs. Other
 *   systems show the narrative as HTML; a stored script there would run in their clinicians'
 *   browsers.
 * - Every string and property name is well-formed Unicode: a lone surrogate (`"\ud800"` in JSON)
 *   has no UTF-8 form, and PostgreSQL's jsonb refuses it.
 * The walk is iterative with a depth bound (the body parser already refuses deeper JSON).
 */
import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { isWellFormedText, wellFormedText } from '../http/input.ts';

const INHERITED = new Set([...Object.getOwnPropertyNames(Object.prototype), 'prototype']);

/** Elements the R4 narrative rules forbid in XHTML. */
const FORBIDDEN_ELEMENT = /<\s*(script|form|input|button|select|textarea|iframe|frame|frameset|object|embed|applet|head|body|html|base|link|meta)\b/i;
/** Event attributes and script URLs. */
const FORBIDDEN_ATTRIBUTE = /<[^>]*\s(on[a-z]+)\s*=|(?:href|src|action|xlink:href)\s*=\s*["']?\s*(?:javascript|vbscript|data\s*:\s*text\/html)/i;

export function contentSafetyIssues(resource: Resource): OperationOutcomeIssue[] {
  const issues: OperationOutcomeIssue[] = [];
  const stack: { value: unknown; path: string }[] = [{ value: resource, path: resource.resourceType }];
  while (stack.length > 0 && issues.length < 20) {
    const { value, path } = stack.pop()!;
    if (Array.isArray(value)) {
      value.forEach((v, i) => {
        if (v !== null && typeof v === 'object') stack.push({ value: v, path: `${path}[${i}]` });
        else if (typeof v === 'string' && !isWellFormedText(v)) issues.push(notUnicode(`${path}[${i}]`));
      });
      continue;
    }
    if (value === null || typeof value !== 'object') continue;
    for (const key of Object.keys(value)) {
      const child = (value as Record<string, unknown>)[key];
      const where = `${path}.${key}`;
      if (!isWellFormedText(key) || (typeof child === 'string' && !isWellFormedText(child))) {
        issues.push(notUnicode(where));
        continue;
      }
      if (INHERITED.has(key)) {
        issues.push(issue('structure', `"${key}" is not a FHIR element name`, where));
        continue;
      }
      if (key === 'div' && typeof child === 'string' && 'status' in value) {
        const problem = narrativeProblem(child);
        if (problem) issues.push(issue('value', problem, where));
        continue;
      }
      if (child !== null && typeof child === 'object') stack.push({ value: child, path: where });
    }
  }
  return issues;
}

/** Why an XHTML narrative breaks the R4 narrative rules, or undefined when it does not. */
export function narrativeProblem(div: string): string | undefined {
  const element = FORBIDDEN_ELEMENT.exec(div);
  if (element) return `The narrative may not contain <${element[1].split(/\s/)[0].toLowerCase()}> (R4 narrative rules)`;
  const attribute = FORBIDDEN_ATTRIBUTE.exec(div);
  if (attribute)
    return attribute[1] ? `The narrative may not contain event attributes (${attribute[1].toLowerCase()})` : 'The narrative may not contain script URLs';
  return undefined;
}

function notUnicode(where: string): OperationOutcomeIssue {
  const text = 'The text holds a lone surrogate (\\uD800–\\uDFFF without its pair): it is not well-formed Unicode';
  return issue('value', text, wellFormedText(where));
}

function issue(code: 'structure' | 'value', text: string, where: string): OperationOutcomeIssue {
  return { severity: 'error', code, details: { text }, diagnostics: `${text} (${where})`, expression: [where] };
}
