/** Staff at the desk record that a citizen manages this person's record, after seeing the proof. */
import { useState } from 'preact/hooks';
import { apiSend } from '../api.ts';
import { t } from '../i18n.ts';

export function FamilyLinkForm({ patientId }: { patientId: string }) {
  const d = t().cz;
  const [done, setDone] = useState<string>();
  const [error, setError] = useState<string>();
  const submit = async (e: Event) => {
    e.preventDefault();
    const f = new FormData(e.target as HTMLFormElement);
    setError(undefined);
    try {
      await apiSend('POST', '/api/family-links', {
        patientId,
        managerCccd: String(f.get('managerCccd') ?? '').trim(),
        relationship: String(f.get('relationship')),
        proof: String(f.get('proof') ?? '').trim(),
      });
      setDone(d.familyLinked);
      (e.target as HTMLFormElement).reset();
    } catch (err) {
      setError((err as Error).message);
    }
  };
  return (
    <details class="card">
      <summary>
        <strong>{d.familyLinkTitle}</strong>
      </summary>
      <p class="hint">{d.familyLinkHint}</p>
      <form onSubmit={submit}>
        <label>
          {d.managerCccd}
          <input name="managerCccd" inputMode="numeric" pattern="\d{12}" required />
        </label>
        <label>
          {d.relation}
          <select name="relationship">
            {Object.entries(d.relations).map(([k, label]) => (
              <option key={k} value={k}>
                {label}
              </option>
            ))}
          </select>
        </label>
        <label>
          {d.proof}
          <input name="proof" required minLength={5} maxLength={300} placeholder={d.proofPlaceholder} />
        </label>
        {error && (
          <p class="error" role="alert">
            {error}
          </p>
        )}
        {done && (
          <p class="ok" role="status">
            {done}
          </p>
        )}
        <button type="submit" class="primary">
          {d.familyLinkSubmit}
        </button>
      </form>
    </details>
  );
}
