/**
 * Why a citizen books a remote visit, in plain words: a short list of common reasons (each stands
 * for a condition of the Circular 30 list, whose ICD-10 code the server checks and records), or
 * "something else", found by the illness's name — never by a code.
 */
import { useState } from 'preact/hooks';
import { Icd10Picker, type Icd } from '../../components/Icd10Picker.tsx';
import { PLAIN_REASONS, tz } from '../../i18n-citizen.ts';

export function ReasonPicker({ value, onChange }: { value?: Icd; onChange: (v: Icd | undefined) => void }) {
  const z = tz();
  const [other, setOther] = useState(false);
  const picked = PLAIN_REASONS.find((r) => r.code === value?.code && !other);
  return (
    <fieldset class="reasons">
      <legend>{z.reasonTitle}</legend>
      <p class="hint">{z.reasonHint}</p>
      {PLAIN_REASONS.map((r) => (
        <label class="check reason" key={r.key}>
          <input
            type="radio"
            name="plain-reason"
            checked={picked?.key === r.key}
            onChange={() => {
              setOther(false);
              onChange({ code: r.code, display: r.display });
            }}
          />{' '}
          {z.reasons[r.key]}
        </label>
      ))}
      <label class="check reason">
        <input
          type="radio"
          name="plain-reason"
          checked={other}
          onChange={() => {
            setOther(true);
            onChange(undefined);
          }}
        />{' '}
        {z.reasonOther}
      </label>
      {other && <Icd10Picker label={z.reasonOtherSearch} name="icd10" value={value} onChange={onChange} />}
    </fieldset>
  );
}
