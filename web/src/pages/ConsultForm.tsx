/** The request form: works on a phone, keeps the request on the device when offline, sends it when back. */
import type { Bundle, Organization, Patient } from '@medplum/fhirtypes';
import { useEffect, useRef, useState } from 'preact/hooks';
import { del, get, set } from 'idb-keyval';
import type { RequestInput } from '../../../src/consult/contract.ts';
import { entries, fhirGet } from '../api.ts';
import { Icd10Picker, type Icd } from '../components/Icd10Picker.tsx';
import { displayName } from '../fhir-format.ts';
import { t } from '../i18n.ts';
import { flushOutbox, pendingCount, queueRequest, refusals, type PendingAttachment } from '../outbox.ts';
import { navigate, path } from '../router.ts';
import { me } from '../session.ts';

const SPECIALTIES: [string, string][] = [
  ['oncology', 'Ung bướu'],
  ['cardiology', 'Tim mạch'],
  ['respiratory', 'Hô hấp'],
  ['internal', 'Nội khoa'],
  ['pediatrics', 'Nhi khoa'],
  ['obstetrics', 'Sản phụ khoa'],
  ['surgery', 'Ngoại khoa'],
  ['neurology', 'Thần kinh'],
  ['infectious', 'Truyền nhiễm'],
];

function readFile(f: File): Promise<PendingAttachment> {
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () =>
      resolve({
        clientId: crypto.randomUUID(),
        contentType: f.type || (f.name.endsWith('.dcm') ? 'application/dicom' : 'application/octet-stream'),
        title: f.name,
        data: String(r.result).split(',')[1] ?? '',
      });
    r.onerror = () => reject(r.error);
    r.readAsDataURL(f);
  });
}

export function ConsultForm() {
  const d = t();
  const patientId = new URLSearchParams(path.value.split('?')[1] ?? '').get('patient') ?? '';
  const [patient, setPatient] = useState<Patient>();
  const [orgs, setOrgs] = useState<Organization[]>([]);
  const [icd, setIcd] = useState<Icd>();
  const [files, setFiles] = useState<PendingAttachment[]>([]);
  const [status, setStatus] = useState<{ kind: 'ok' | 'error' | 'offline'; text: string }>();
  const [busy, setBusy] = useState(false);

  const draftKey = `consult-draft:${patientId}`;
  const formRef = useRef<HTMLFormElement>(null);
  // A draft kept on this device: restored when the form opens again.
  useEffect(() => {
    void get(draftKey).then((draft: Record<string, string> | undefined) => {
      if (!draft || !formRef.current) return;
      for (const [k, v] of Object.entries(draft)) {
        const el = formRef.current.elements.namedItem(k) as HTMLInputElement | null;
        if (el && k !== 'icd' && el.type !== 'radio') el.value = v;
      }
      if (draft.icdCode) setIcd({ code: draft.icdCode, display: draft.icdDisplay });
    });
  }, [draftKey]);
  const saveDraft = async () => {
    const f = new FormData(formRef.current!);
    await set(draftKey, {
      ...Object.fromEntries([...f.entries()].filter(([, v]) => typeof v === 'string')),
      ...(icd ? { icdCode: icd.code, icdDisplay: icd.display } : {}),
    });
    setStatus({ kind: 'ok', text: d.draftSaved });
  };

  useEffect(() => {
    if (patientId) fhirGet<Patient>(`Patient/${patientId}`).then(setPatient, () => undefined);
    fhirGet<Bundle>('Organization?_count=100&_sort=name').then(
      (b) => setOrgs(entries<Organization>(b).filter((o) => `Organization/${o.id}` !== `Organization/${me.value?.organizationId}`)),
      () => undefined,
    );
  }, [patientId]);

  const submit = async (e: Event) => {
    e.preventDefault();
    if (!icd) return setStatus({ kind: 'error', text: d.workingDiagnosis });
    const f = new FormData(e.target as HTMLFormElement);
    const clientId = crypto.randomUUID();
    const [code, display] = String(f.get('specialty')).split('|');
    const body: Omit<RequestInput, 'attachmentIds'> = {
      clientId,
      patientId,
      receivingOrganizationId: String(f.get('receiving')),
      specialty: { code, display },
      urgency: String(f.get('urgency')) as RequestInput['urgency'],
      reason: String(f.get('reason')),
      icd10: { code: icd.code, display: icd.display },
      summary: {
        history: String(f.get('history')),
        findings: String(f.get('findings')),
        vitals: String(f.get('vitals') || '') || undefined,
        treatment: String(f.get('treatment')),
        question: String(f.get('question')),
      },
      submit: true,
    };
    setBusy(true);
    // Always through the device's outbox: sent now when online, later otherwise, exactly once.
    await queueRequest({ clientId, patientId, body, attachments: files, savedAt: new Date().toISOString() });
    await del(draftKey);
    const sent = navigator.onLine ? await flushOutbox() : 0;
    setBusy(false);
    // Refused by a rule (e.g. no support agreement with that facility): say why, keep the form as it is.
    if (refusals.value[clientId]) return setStatus({ kind: 'error', text: refusals.value[clientId] });
    if (sent > 0 && pendingCount.value === 0) {
      setStatus({ kind: 'ok', text: d.submitted });
      navigate('/consults');
    } else setStatus({ kind: 'offline', text: d.savedOffline });
  };

  return (
    <section>
      <h1>{d.requestTitle}</h1>
      {patient && (
        <p class="meta">
          {d.patient}: <strong>{displayName(patient.name)}</strong>
        </p>
      )}
      <form class="card consult-form" onSubmit={submit} ref={formRef}>
        <label>
          {d.receivingFacility}
          <select name="receiving" required>
            {orgs.map((o) => (
              <option value={o.id} key={o.id}>
                {o.name}
              </option>
            ))}
          </select>
        </label>
        <label>
          {d.specialty}
          <select name="specialty" required>
            {SPECIALTIES.map(([c, v]) => (
              <option value={`${c}|${v}`} key={c}>
                {v}
              </option>
            ))}
          </select>
        </label>
        <fieldset class="urgency">
          <legend>{d.urgency}</legend>
          {(['routine', 'urgent', 'emergency'] as const).map((u) => (
            <label class="check" key={u}>
              <input type="radio" name="urgency" value={u} defaultChecked={u === 'routine'} /> {d.urgencies[u]}
            </label>
          ))}
        </fieldset>
        <Icd10Picker label={d.workingDiagnosis} name="icd" value={icd} onChange={setIcd} />
        <label>
          {d.reasonLabel}
          <input name="reason" required maxLength={1000} />
        </label>
        <label>
          {d.history}
          <textarea name="history" required rows={3} />
        </label>
        <label>
          {d.findings}
          <textarea name="findings" required rows={3} />
        </label>
        <label>
          {d.vitals}
          <input name="vitals" maxLength={5000} />
        </label>
        <label>
          {d.treatment}
          <textarea name="treatment" required rows={2} />
        </label>
        <label>
          {d.question}
          <textarea name="question" required rows={2} />
        </label>
        <label>
          {d.attachments}
          <input
            type="file"
            accept="image/jpeg,image/png,image/webp,application/pdf,.dcm,application/dicom"
            multiple
            onChange={async (e) => setFiles(await Promise.all([...((e.target as HTMLInputElement).files ?? [])].map(readFile)))}
          />
        </label>
        {files.length > 0 && (
          <ul class="files">
            {files.map((f) => (
              <li key={f.clientId}>{f.title}</li>
            ))}
          </ul>
        )}
        <div class="row">
          <button type="submit" class="primary" disabled={busy || !patientId}>
            {d.submitRequest}
          </button>
          <button type="button" onClick={saveDraft}>
            {d.saveDraft}
          </button>
        </div>
        {status && (
          <p class={status.kind === 'error' ? 'error' : status.kind === 'ok' ? 'ok' : 'notice'} role="status">
            {status.text}
          </p>
        )}
        {pendingCount.value > 0 && <p class="notice">{d.pendingOffline(pendingCount.value)}</p>}
      </form>
    </section>
  );
}
