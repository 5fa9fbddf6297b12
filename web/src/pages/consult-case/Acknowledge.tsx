/** The requesting clinician acknowledges the advice: accept it or decide differently (with a reason), the plan and when to follow up. */
import { useState } from 'preact/hooks';
import type { AcknowledgeInput, CaseView } from '../../../../src/consult/contract.ts';
import { apiSend } from '../../api.ts';
import { t } from '../../i18n.ts';
import type { Act } from './shared.ts';

export function Acknowledge({ c, act }: { c: CaseView; act: Act }) {
  const d = t();
  const [decision, setDecision] = useState<AcknowledgeInput['decision']>('accept');
  return (
    <form
      class="card"
      onSubmit={(e) => {
        e.preventDefault();
        const f = new FormData(e.target as HTMLFormElement);
        const body: AcknowledgeInput = {
          decision,
          reason: String(f.get('reason') || '') || undefined,
          plan: String(f.get('plan') || '') || undefined,
          followUpDays: Number(f.get('days')),
        };
        void act(() => apiSend('POST', `/api/consults/${c.caseId}/acknowledge`, body), d.confirm);
      }}
    >
      <h2>{d.acknowledgeTitle}</h2>
      <label class="check">
        <input type="radio" name="decision" checked={decision === 'accept'} onChange={() => setDecision('accept')} /> {d.acceptAdvice}
      </label>
      <label class="check">
        <input type="radio" name="decision" checked={decision === 'different'} onChange={() => setDecision('different')} /> {d.differentDecision}
      </label>
      {decision === 'different' && (
        <label>
          {d.reasonRequired}
          <textarea name="reason" required minLength={5} rows={2} />
        </label>
      )}
      <label>
        {d.plan}
        <textarea name="plan" rows={2} />
      </label>
      <label>
        {d.followUpDays}
        <input name="days" type="number" min={1} max={365} defaultValue={14} />
      </label>
      <button type="submit" class="primary">
        {d.confirm}
      </button>
    </form>
  );
}
