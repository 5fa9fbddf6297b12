/** The pre-visit questions (a FHIR Questionnaire) as a form: yes/no, choice and free-text answers. */
import type { Questionnaire } from '@medplum/fhirtypes';
import { lang, t } from '../../i18n.ts';
import { tz } from '../../i18n-citizen.ts';
import type { Answers } from '../../../../src/visits/contract.ts';

/** Questions are written "Vietnamese (English)": show the part in the reader's language. */
function localText(text: string): string {
  const m = /^(.*) \(([^()]*)\)$/.exec(text);
  if (!m) return text;
  return lang.value === 'en' ? m[2].charAt(0).toUpperCase() + m[2].slice(1) : m[1];
}

export function QuestionnaireForm({ q, answers, onChange }: { q: Questionnaire; answers: Answers; onChange: (a: Answers) => void }) {
  const d = t();
  return (
    <fieldset class="questions">
      <legend>{d.cz.questions}</legend>
      {(q.item ?? []).map((item) => {
        const label = localText(item.text ?? item.linkId);
        if (item.type === 'boolean') {
          return (
            <div class="question" key={item.linkId} role="radiogroup" aria-label={label}>
              <p>{label}</p>
              <label class="check">
                <input type="radio" name={item.linkId} checked={answers[item.linkId] === true} onChange={() => onChange({ ...answers, [item.linkId]: true })} />{' '}
                {d.cz.yes}
              </label>
              <label class="check">
                <input
                  type="radio"
                  name={item.linkId}
                  checked={answers[item.linkId] === false}
                  onChange={() => onChange({ ...answers, [item.linkId]: false })}
                />{' '}
                {d.cz.no}
              </label>
            </div>
          );
        }
        if (item.type === 'choice') {
          return (
            <div class="question" key={item.linkId} role="radiogroup" aria-label={label}>
              <p>{label}</p>
              {(item.answerOption ?? []).map((o) => (
                <label class="check" key={o.valueCoding?.code}>
                  <input
                    type="radio"
                    name={item.linkId}
                    checked={answers[item.linkId] === o.valueCoding?.code}
                    onChange={() => onChange({ ...answers, [item.linkId]: o.valueCoding!.code! })}
                  />{' '}
                  {tz().answerChoices[o.valueCoding?.code ?? ''] ?? localText(o.valueCoding?.display ?? '')}
                </label>
              ))}
            </div>
          );
        }
        return (
          <label class="question" key={item.linkId}>
            {label}
            <input
              name={item.linkId}
              value={String(answers[item.linkId] ?? '')}
              onInput={(e) => onChange({ ...answers, [item.linkId]: (e.target as HTMLInputElement).value })}
            />
          </label>
        );
      })}
    </fieldset>
  );
}
