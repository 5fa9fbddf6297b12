/** The specialists' conclusion: written and edited before signing, signed by each, its signatures verified. */
import { useState } from 'preact/hooks';
import type { CaseView, ConclusionInput, VerifyResult } from '../../../../src/consult/contract.ts';
import { apiGet, apiSend } from '../../api.ts';
import { Icd10Picker, type Icd } from '../../components/Icd10Picker.tsx';
import { formatDateTime, t } from '../../i18n.ts';
import { sectionText, type Act } from './shared.ts';

export function Conclusion({ c, act, canEdit, canSign, name }: { c: CaseView; act: Act; canEdit: boolean; canSign: boolean; name: (ref: string) => string }) {
  const d = t();
  const doc = c.conclusion;
  const text = (title: string) => sectionText(doc?.section?.find((s) => s.title === title)?.text?.div);
  const dx = doc?.extension?.find((e) => e.url.endsWith('consult-diagnosis'))?.valueCoding;
  const [icd, setIcd] = useState<Icd | undefined>(dx ? { code: dx.code!, display: dx.display ?? '' } : undefined);
  const [verify, setVerify] = useState<VerifyResult>();
  return (
    <section class="card">
      <h2>{d.conclusionTitle}</h2>
      {canEdit ? (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            const f = new FormData(e.target as HTMLFormElement);
            if (!icd) return;
            const body: ConclusionInput = {
              assessment: String(f.get('assessment')),
              diagnosis: { code: icd.code, display: icd.display },
              recommendations: String(f.get('recommendations')),
              transfer: f.get('transfer') === 'on',
              actionUrgency: String(f.get('actionUrgency')) as ConclusionInput['actionUrgency'],
            };
            void act(() => apiSend('PUT', `/api/consults/${c.caseId}/conclusion`, body), d.saveConclusion);
          }}
        >
          <label>
            {d.assessment}
            <textarea name="assessment" required rows={3} defaultValue={text('Nhận định')} />
          </label>
          <Icd10Picker label={d.diagnosis} name="diagnosis" value={icd} onChange={setIcd} />
          <label>
            {d.recommendations}
            <textarea name="recommendations" required rows={3} defaultValue={text('Khuyến cáo (xét nghiệm, điều trị)')} />
          </label>
          <label class="check">
            <input type="checkbox" name="transfer" /> {d.transfer}
          </label>
          <label>
            {d.actionUrgency}
            <select name="actionUrgency">
              {(['routine', 'urgent', 'emergency'] as const).map((u) => (
                <option value={u} key={u}>
                  {d.urgencies[u]}
                </option>
              ))}
            </select>
          </label>
          <button type="submit">{d.saveConclusion}</button>
        </form>
      ) : doc ? (
        <div>
          {doc.section?.map((s) => (
            <p key={s.title}>
              <strong>{s.title}:</strong> {sectionText(s.text?.div)}
            </p>
          ))}
        </div>
      ) : null}
      {doc && (
        <>
          <h3>{d.advisedBy}</h3>
          <ul>
            {(doc.attester ?? []).map((a) => (
              <li key={a.party?.reference}>
                {name(a.party?.reference ?? '')} · {formatDateTime(a.time)}
              </li>
            ))}
          </ul>
          <div class="row">
            {canSign && (
              <button type="button" class="primary" onClick={() => act(() => apiSend('POST', `/api/consults/${c.caseId}/conclusion/sign`), d.sign)}>
                {d.sign}
              </button>
            )}
            {(doc.attester ?? []).length > 0 && (
              <button type="button" onClick={() => apiGet<VerifyResult>(`/api/consults/${c.caseId}/conclusion/verify`).then(setVerify)}>
                {d.verifySignatures}
              </button>
            )}
          </div>
          {verify && <p class={verify.valid ? 'ok' : 'error'}>{verify.valid ? d.signaturesValid : d.signaturesInvalid}</p>}
        </>
      )}
    </section>
  );
}
