/**
 * order-sign: decision support when the clinician signs a prescription. The hook is fired with the
 * medicines on the prescription; a CRITICAL card holds signing until it is accepted or overridden
 * with a reason (CdsCards), then signing the same medicines again goes on without a new call.
 * Rules: never blocks silently — a service that fails or times out lets signing go on, and the page
 * says the check could not be made; other cards (warning, info) are shown, never blocking; changed
 * medicines are checked again.
 */
import { useRef, useState } from 'preact/hooks';
import type { HookResult } from '../../../src/cds/contract.ts';
import { tcds } from '../i18n-cds.ts';
import { CdsCards } from './CdsCards.tsx';
import { fireHook } from './hooks.ts';

export interface SignGate {
  /** true when signing may go on now. */
  check(patientId: string, items: { name: string; atc?: string }[]): Promise<boolean>;
  result?: HookResult;
  /** The medicines the shown result is about. */
  key?: string;
  blocked: boolean;
  failed: boolean;
  onOutcome(cardId: string): void;
}

/** Which medicines a check was for (names as written, ATC codes). */
const signKey = (items: { name: string; atc?: string }[]) =>
  JSON.stringify(
    items
      .filter((i) => i.name.trim())
      .slice(0, 30)
      .map((i) => [i.name.trim(), i.atc ?? '']),
  );

const pendingOf = (r: HookResult | undefined, done: Set<string>) => (r?.cards ?? []).filter((c) => c.indicator === 'critical' && !done.has(c.id));

export function useOrderSignGate(): SignGate {
  const [state, setState] = useState<{ key?: string; result?: HookResult; failed: boolean; blocked: boolean }>({ failed: false, blocked: false });
  // Read inside async checks and card callbacks: refs, not the render's copy.
  const last = useRef<{ key?: string; result?: HookResult }>({});
  const done = useRef(new Set<string>());
  const check = async (patientId: string, items: { name: string; atc?: string }[]) => {
    const chosen = items.filter((i) => i.name.trim()).slice(0, 30);
    if (!chosen.length) return true;
    const key = signKey(chosen);
    if (last.current.key !== key) {
      const result = await fireHook('order-sign', {
        patientId,
        items: chosen.map((i) => ({ name: i.name.trim().slice(0, 200), ...(i.atc ? { atc: i.atc } : {}) })),
      });
      last.current = { key, result };
      done.current = new Set();
    }
    const blocked = pendingOf(last.current.result, done.current).length > 0;
    setState({ key, result: last.current.result, failed: !last.current.result, blocked });
    return !blocked;
  };
  const onOutcome = (cardId: string) => {
    done.current.add(cardId);
    setState((s) => ({ ...s, blocked: s.blocked && pendingOf(last.current.result, done.current).length > 0 }));
  };
  return { check, result: state.result, key: state.key, blocked: state.blocked, failed: state.failed, onOutcome };
}

/** The sign check's cards and state; once `signed`, only whether the check could be made (its cards were acted on in the form). */
export function OrderSignCards({ gate, items, signed = false }: { gate: SignGate; items: { name: string; atc?: string }[]; signed?: boolean }) {
  const l = tcds();
  // Medicines changed since the check: its cards are about another prescription (signing checks again).
  if (!signed && gate.key !== signKey(items)) return null;
  return (
    <div id="cds-sign">
      {!signed && <CdsCards result={gate.result} headingId="cds-sign-title" title={l.signTitle} onOutcome={gate.onOutcome} />}
      {gate.blocked && !signed && (
        <p class="error" role="alert">
          {l.signBlocked}
        </p>
      )}
      {gate.failed && (
        <p class="notice" role="status">
          {l.signUnavailable}
        </p>
      )}
    </div>
  );
}
