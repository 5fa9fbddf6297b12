/**
 * Prefetch (CDS Hooks 2.0 §"Prefetch template"): the service's templates filled from the hook's
 * context and read THROUGH THE GUARDED STORE as the clinician (their repository: role policy,
 * patient reach, consent — each read audited), limited to the data scopes the registry approved
 * for that service.
 *
 * Rules: a template naming a type outside the approved scopes, asking for included resources
 * (_include, _revinclude, _has, _elements of other types), or with a token the context cannot fill
 * is not sent at all (the service may not go and fetch it: it gets no FHIR server address).
 * Every filled query is confined to the hook's patient: a read is of that Patient (or the hook's
 * Encounter, or a resource about the patient), a search names the patient (`patient=`/`subject=`,
 * `_id=` for Patient, or `encounter=` the hook's encounter) and no one else, and each result must
 * be about the patient — a template
 * without the patient (`Observation?_count=100`) or naming someone else is withheld, never run as
 * the clinician's facility-wide search.
 * A refused read is a refusal for the clinician too (it throws); a missing resource is null.
 */
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { FhirError } from '../fhir/outcome.ts';
import type { Repository } from '../fhir/repository.ts';

export interface Filled {
  prefetch: Record<string, Resource | Bundle | null>;
  /** Types of the data that left (for the audit and the citizen's access log). */
  sent: string[];
  /** Keys not filled, with why. */
  withheld: { key: string; why: string }[];
}

const TOKEN = /\{\{\s*([A-Za-z.]+)\s*\}\}/g;
const FORBIDDEN_PARAMS = /(^|&)(_include|_revinclude|_has|_contained|_containedType)[=:]/;
const MAX_PER_SEARCH = 100;
const REFERENCE_PARAMS: [string, string][] = [
  ['patient', 'Patient'],
  ['subject', 'Patient'],
  ['encounter', 'Encounter'],
];

/** Whether a resource is about the patient: the Patient itself, or one that references it. */
function aboutPatient(r: Resource, patientId: string): boolean {
  if (r.resourceType === 'Patient') return r.id === patientId;
  return JSON.stringify(r).includes(`"Patient/${patientId}"`);
}

/** Why a search is not confined to the patient, or undefined when it is. */
function notConfined(type: string, params: URLSearchParams, patientId: string, encounterId: string | undefined): string | undefined {
  const keys = [...new Set([...params.keys()])];
  if (type === 'Patient') {
    const ids = params.getAll('_id');
    if (!ids.length || ids.some((v) => v !== patientId)) return 'a Patient search must be _id={{context.patientId}}';
    return undefined;
  }
  // patient=/subject= the hook's patient, or encounter= the hook's encounter (results are then kept only when about the patient).
  const refs = keys.filter((k) => /^(patient|subject|encounter)(:|$)/.test(k));
  if (!refs.length) return 'the search does not name the patient (patient=, subject= or encounter=)';
  for (const k of refs) {
    if (k !== 'patient' && k !== 'subject' && k !== 'encounter') return `${k}: only patient=, subject= and encounter= confine a search`;
    const want = k === 'encounter' ? (encounterId ? `Encounter/${encounterId}` : undefined) : `Patient/${patientId}`;
    if (params.getAll(k).some((v) => v !== want)) return `${k} names another ${k === 'encounter' ? 'encounter' : 'patient'}`;
  }
  return undefined;
}

/** Replaces {{context.x}}, {{userPractitionerId}}, {{userPatientId}} tokens; undefined when one cannot be filled. */
export function fillTemplate(template: string, values: Record<string, string | undefined>): string | undefined {
  let missing = false;
  const out = template.replace(TOKEN, (_, name: string) => {
    const v = values[name];
    if (v === undefined || !/^[A-Za-z0-9\-./]{1,128}$/.test(v)) {
      missing = true;
      return '';
    }
    return encodeURIComponent(v).replace(/%2F/g, '/');
  });
  return missing ? undefined : out;
}

/** The type a filled query reads: "Patient/123" → Patient, "AllergyIntolerance?patient=1" → AllergyIntolerance. */
export function queryType(query: string): string | undefined {
  return /^([A-Z][A-Za-z]+)(?:[/?]|$)/.exec(query)?.[1];
}

export async function fillPrefetch(
  repo: Repository,
  templates: Record<string, string>,
  values: Record<string, string | undefined>,
  scopes: readonly string[],
): Promise<Filled> {
  const prefetch: Filled['prefetch'] = {};
  const sent = new Set<string>();
  const withheld: Filled['withheld'] = [];
  const patientId = values['context.patientId'];
  for (const [key, template] of Object.entries(templates)) {
    const query = fillTemplate(template, values);
    if (!query) {
      withheld.push({ key, why: 'context cannot fill the template' });
      continue;
    }
    const type = queryType(query);
    if (!type || !scopes.includes(type)) {
      withheld.push({ key, why: `${type ?? 'query'} is outside the approved data scopes` });
      continue;
    }
    const [path, search] = query.split('?');
    if (search !== undefined && FORBIDDEN_PARAMS.test(search)) {
      withheld.push({ key, why: 'included resources are not sent' });
      continue;
    }
    try {
      if (search === undefined) {
        const id = path.split('/')[1];
        if (!id || path.split('/').length !== 2) {
          withheld.push({ key, why: 'only Type/id reads and Type?query searches are filled' });
          continue;
        }
        const own = type === 'Patient' ? id === patientId : type === 'Encounter' ? id === values['context.encounterId'] : true;
        if (!patientId || !own) {
          withheld.push({ key, why: `${type}/${id} is not the hook's ${type === 'Encounter' ? 'encounter' : 'patient'}` });
          continue;
        }
        const found = (await repo.tryRead(type, id)) ?? null;
        if (found && !aboutPatient(found, patientId)) {
          withheld.push({ key, why: `${type}/${id} is not about the patient` });
          continue;
        }
        prefetch[key] = found;
      } else {
        const params = new URLSearchParams(search);
        const count = Math.min(Number(params.get('_count') ?? MAX_PER_SEARCH) || MAX_PER_SEARCH, MAX_PER_SEARCH);
        params.set('_count', String(count));
        params.delete('_elements');
        // A bare id in a reference parameter (FHIR allows it) is made Type/id for the store.
        for (const [name, target] of REFERENCE_PARAMS) {
          const v = params.get(name);
          if (v && !v.includes('/')) params.set(name, `${target}/${v}`);
        }
        const why = patientId ? notConfined(type, params, patientId, values['context.encounterId']) : 'the hook names no patient';
        if (why) {
          withheld.push({ key, why });
          continue;
        }
        const found = (await repo.search(type, params)).filter((r) => aboutPatient(r, patientId!));
        const bundle: Bundle = { resourceType: 'Bundle', type: 'searchset', total: found.length, entry: found.map((resource) => ({ resource })) };
        prefetch[key] = bundle;
      }
      sent.add(type);
    } catch (err) {
      // A refusal stays a refusal; a search the store cannot answer is simply not sent.
      if (err instanceof FhirError && err.status !== 403 && err.status !== 401) {
        withheld.push({ key, why: err.message.slice(0, 200) });
        continue;
      }
      throw err;
    }
  }
  return { prefetch, sent: [...sent], withheld };
}
