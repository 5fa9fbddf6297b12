/** Triage by the receiving facility: assign specialists and accept, ask for more information, or decline. */
import type { Bundle, Practitioner, PractitionerRole } from '@medplum/fhirtypes';
import { useEffect, useState } from 'preact/hooks';
import type { CaseView, TriageInput } from '../../../../src/consult/contract.ts';
import { apiSend, entries, fhirGet } from '../../api.ts';
import { displayName } from '../../fhir-format.ts';
import { t } from '../../i18n.ts';
import type { Act } from './shared.ts';

export function Triage({ c, act }: { c: CaseView; act: Act }) {
  const d = t();
  const [people, setPeople] = useState<{ id: string; name: string }[]>([]);
  const [reason, setReason] = useState('');
  useEffect(() => {
    fhirGet<Bundle>(`PractitionerRole?organization=Organization/${c.receivingOrganization?.id}&_include=PractitionerRole:practitioner&_count=100`).then((b) => {
      setPeople(entries<Practitioner>(b, 'Practitioner').map((p) => ({ id: p.id!, name: `${p.name?.[0]?.prefix?.[0] ?? ''} ${displayName(p.name)}`.trim() })));
      void entries<PractitionerRole>(b, 'PractitionerRole');
    });
  }, [c.receivingOrganization?.id]);
  return (
    <form class="card" onSubmit={(e) => e.preventDefault()}>
      <h2>{d.triageTitle}</h2>
      <fieldset>
        <legend>{d.assignSpecialists}</legend>
        {people.map((p) => (
          <label class="check" key={p.id}>
            <input type="checkbox" name="specialist" value={p.id} /> {p.name}
          </label>
        ))}
      </fieldset>
      <label>
        {d.reasonRequired}
        <input value={reason} onInput={(e) => setReason((e.target as HTMLInputElement).value)} maxLength={2000} />
      </label>
      <div class="row">
        <button
          type="button"
          class="primary"
          onClick={(e) => {
            const ids = [...(e.currentTarget.form!.querySelectorAll('input[name=specialist]:checked') as NodeListOf<HTMLInputElement>)].map((i) => i.value);
            void act(
              () => apiSend('POST', `/api/consults/${c.caseId}/triage`, { action: 'accept', specialistIds: ids, version: c.version } satisfies TriageInput),
              d.accept,
            );
          }}
        >
          {d.accept}
        </button>
        <button
          type="button"
          onClick={() =>
            act(() => apiSend('POST', `/api/consults/${c.caseId}/triage`, { action: 'request-info', reason, version: c.version } satisfies TriageInput))
          }
        >
          {d.requestInfo}
        </button>
        <button
          type="button"
          class="danger"
          onClick={() =>
            act(() => apiSend('POST', `/api/consults/${c.caseId}/triage`, { action: 'decline', reason, version: c.version } satisfies TriageInput))
          }
        >
          {d.decline}
        </button>
      </div>
    </form>
  );
}
