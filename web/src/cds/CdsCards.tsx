/**
 * Decision-support cards (CDS Hooks) where the clinician works: each card with its indicator,
 * the service's own source and the registry's name of the service; a suggestion accepted becomes
 * a draft the clinician then confirms; overriding needs a reason (one of the card's, or written).
 * System actions are listed, never applied. A service that was too slow is named, never waited for.
 */
import { useState } from 'preact/hooks';
import type { Accepted, CardView, Confirmed, HookResult } from '../../../src/cds/contract.ts';
import { apiSend } from '../api.ts';
import { tcds } from '../i18n-cds.ts';
import './cds.css';

function Card({ card, onOutcome }: { card: CardView; onOutcome?: (cardId: string) => void }) {
  const l = tcds();
  const [state, setState] = useState<{ done?: string; error?: string; drafts?: string[]; confirmed?: string[] }>({});
  const [overriding, setOverriding] = useState(false);
  const [code, setCode] = useState('');
  const [reason, setReason] = useState('');
  const accept = async (uuid: string) => {
    try {
      const r = await apiSend<Accepted>('POST', `/api/cds/cards/${card.id}/accept`, { suggestion: uuid });
      setState({ done: l.accepted(r.drafts.length), drafts: r.drafts, confirmed: [] });
      onOutcome?.(card.id);
    } catch (e) {
      setState({ error: (e as Error).message });
    }
  };
  const override = async () => {
    if (reason.trim().length < 5) return setState({ error: l.reasonNeeded });
    try {
      await apiSend('POST', `/api/cds/cards/${card.id}/override`, { reason: reason.trim(), ...(code ? { code } : {}) });
      setState({ done: l.overridden });
      setOverriding(false);
      onOutcome?.(card.id);
    } catch (err) {
      setState({ error: (err as Error).message });
    }
  };
  const confirm = async (ref: string) => {
    try {
      await apiSend<Confirmed>('POST', `/api/cds/drafts/${ref}/confirm`);
      setState({ ...state, confirmed: [...(state.confirmed ?? []), ref] });
    } catch (err) {
      setState({ ...state, error: (err as Error).message });
    }
  };
  return (
    <li class={`cds-card ${card.indicator}`} data-indicator={card.indicator}>
      <p>
        <span class="cds-indicator">{l.indicator[card.indicator]}</span> <strong>{card.summary}</strong>
      </p>
      {card.detail && <p class="detail">{card.detail}</p>}
      <p class="meta">
        {l.source}: {card.source.url ? <a href={card.source.url}>{card.source.label}</a> : card.source.label} ·{' '}
        {l.service(card.service.name, card.service.version, card.service.vendor)}
      </p>
      {state.done ? (
        <p class="notice" role="status">
          {state.done}
        </p>
      ) : (
        <div class="row">
          {card.suggestions.map((s) => (
            <button type="button" key={s.uuid} onClick={() => void accept(s.uuid)} title={s.actions.map((a) => a.description).join('; ')}>
              {s.label}
            </button>
          ))}
          {card.indicator !== 'info' && !overriding && (
            <button type="button" class="secondary" onClick={() => setOverriding(true)}>
              {l.override}
            </button>
          )}
        </div>
      )}
      {overriding && !state.done && (
        // Not a form: cards sit inside the visit note's form.
        <div class="override" role="group" aria-label={l.override}>
          {card.overrideReasons.length > 0 && (
            <label>
              {l.overrideChoice}
              <select value={code} onChange={(e) => setCode((e.target as HTMLSelectElement).value)}>
                <option value="">{l.overrideOther}</option>
                {card.overrideReasons.map((r) => (
                  <option key={r.code} value={r.code}>
                    {r.display}
                  </option>
                ))}
              </select>
            </label>
          )}
          <label>
            {l.overrideReason}
            <textarea
              rows={2}
              minLength={5}
              maxLength={500}
              required
              value={reason}
              onInput={(e) => {
                setReason((e.target as HTMLTextAreaElement).value);
                if (state.error) setState({});
              }}
            />
          </label>
          <button type="button" onClick={() => void override()}>
            {l.overrideSend}
          </button>
        </div>
      )}
      {!!state.drafts?.length && (
        <ul class="plain drafts" aria-label={l.drafts}>
          {state.drafts.map((ref) => (
            <li key={ref}>
              {l.drafts}: {ref.split('/')[0]}{' '}
              {state.confirmed?.includes(ref) ? (
                <strong>✓ {l.confirmed}</strong>
              ) : (
                <button type="button" onClick={() => void confirm(ref)}>
                  {l.confirm}
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
      {state.error && (
        <p class="error" role="alert">
          {state.error}
        </p>
      )}
    </li>
  );
}

/** Cards of one hook; `headingId` keeps several lists on one page apart; `onOutcome` hears each card accepted or overridden. */
export function CdsCards({
  result,
  headingId = 'cds-title',
  title,
  onOutcome,
}: {
  result?: HookResult;
  headingId?: string;
  title?: string;
  onOutcome?: (cardId: string) => void;
}) {
  const l = tcds();
  if (!result || (!result.cards.length && !result.dropped.length && !result.systemActions.length)) return null;
  return (
    <section class="card cds-cards" aria-labelledby={headingId} data-hook={result.hook}>
      <h2 id={headingId}>{title ?? l.cardsTitle}</h2>
      <p class="hint">{l.cardsHint}</p>
      <ul class="plain">
        {result.cards.map((c) => (
          <Card key={c.id} card={c} onOutcome={onOutcome} />
        ))}
      </ul>
      {result.systemActions.length > 0 && (
        <div class="meta">
          <p>{l.systemActions}</p>
          <ul>
            {result.systemActions.map((a, i) => (
              <li key={i}>
                {a.service}: {a.description ?? a.type} ({l.notApplied})
              </li>
            ))}
          </ul>
        </div>
      )}
      {result.dropped.length > 0 && <p class="meta">{l.dropped(result.dropped.length)}</p>}
    </section>
  );
}
