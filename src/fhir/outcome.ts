/** FHIR errors: every failure leaves the API as an OperationOutcome with the right HTTP status. */
import type { OperationOutcome, OperationOutcomeIssue } from '@medplum/fhirtypes';

export type IssueCode = OperationOutcomeIssue['code'];

export class FhirError extends Error {
  constructor(
    readonly status: number,
    readonly issues: OperationOutcomeIssue[],
  ) {
    super(issues.map((i) => i.diagnostics ?? i.details?.text ?? i.code).join('; '));
    this.name = 'FhirError';
  }

  get outcome(): OperationOutcome {
    return { resourceType: 'OperationOutcome', issue: this.issues };
  }
}

function issue(code: IssueCode, text: string, expression?: string[]): OperationOutcomeIssue {
  return { severity: 'error', code, details: { text }, diagnostics: text, ...(expression?.length ? { expression } : {}) };
}

export const badRequest = (text: string, expression?: string[]) => new FhirError(400, [issue('invalid', text, expression)]);
/** At most this many issues are listed in one answer (a malformed body can have one per character). */
export const MAX_ISSUES = 100;
export const invalidResource = (issues: OperationOutcomeIssue[]) =>
  new FhirError(
    400,
    issues.length <= MAX_ISSUES
      ? issues
      : [...issues.slice(0, MAX_ISSUES), issue('too-costly', `${issues.length - MAX_ISSUES} more problems are not listed; correct the ones above first`)],
  );
export const notFound = (text: string) => new FhirError(404, [issue('not-found', text)]);
export const gone = (text: string) => new FhirError(410, [issue('deleted', text)]);
export const conflict = (text: string) => new FhirError(409, [issue('conflict', text)]);
export const preconditionFailed = (text: string) => new FhirError(412, [issue('conflict', text)]);
export const businessRule = (text: string, expression?: string[]) => new FhirError(422, [issue('business-rule', text, expression)]);
export const notSupported = (text: string) => new FhirError(400, [issue('not-supported', text)]);
export const tooLarge = (text: string) => new FhirError(413, [issue('too-costly', text)]);

export function allOk(text: string): OperationOutcome {
  return { resourceType: 'OperationOutcome', issue: [{ severity: 'information', code: 'informational', details: { text }, diagnostics: text }] };
}
