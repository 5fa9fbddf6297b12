/** The requesting clinician records the case's outcome at follow-up. */
import type { CaseView, FollowUpInput } from '../../../../src/consult/contract.ts';
import { apiSend } from '../../api.ts';
import { formatDate, t } from '../../i18n.ts';
import type { Act } from './shared.ts';

export function FollowUp({ c, act }: { c: CaseView; act: Act }) {
  const d = t();
  return (
    <form
      class="card"
      onSubmit={(e) => {
        e.preventDefault();
        const f = new FormData(e.target as HTMLFormElement);
        const body: FollowUpInput = { outcome: String(f.get('outcome')) as FollowUpInput['outcome'], note: String(f.get('note') || '') || undefined };
        void act(() => apiSend('POST', `/api/consults/${c.caseId}/follow-up`, body), d.record);
      }}
    >
      <h2>{d.followUpTitle}</h2>
      <p class="meta">{formatDate(c.followUpDue)}</p>
      <label>
        {d.followUpTitle}
        <select name="outcome">
          {Object.entries(d.outcomes).map(([k, v]) => (
            <option value={k} key={k}>
              {v}
            </option>
          ))}
        </select>
      </label>
      <label>
        {d.plan}
        <textarea name="note" rows={2} />
      </label>
      <button type="submit" class="primary">
        {d.record}
      </button>
    </form>
  );
}
