/**
 * Attachments of a case (images, PDF, DICOM): a Binary holding the bytes, owned by the patient
 * (`Binary.securityContext`), and a DocumentReference describing it. Uploads are checked by their
 * magic bytes and size, and stored exactly once per client id.
 *
 * Reading one back re-checks everything through the actor's repository — the DocumentReference,
 * the Binary itself and the patient the Binary belongs to — so a DocumentReference written through
 * plain FHIR that points at another patient's Binary gives nothing away, and the audit row names
 * the real owner. Any request naming attachments uses `assertPatientAttachment` the same way.
 */
import { createHash } from 'node:crypto';
import type { Binary, DocumentReference } from '@medplum/fhirtypes';
import type { AccessContext } from '../auth/actor.ts';
import { AccessDenied } from '../auth/access.ts';
import type { DomainAction } from '../auth/policy.ts';
import type { Repository } from '../fhir/repository.ts';
import { badRequest, FhirError, notFound, tooLarge } from '../fhir/outcome.ts';
import type { ConsultDeps } from './case.ts';
import type { AttachmentInput } from './contract.ts';
import { ATTACHMENT_ID_SYSTEM, ref } from './model.ts';

/** The accepted types, each with its magic-byte test. */
export const ATTACHMENT_TYPES: Record<string, (b: Buffer) => boolean> = {
  'image/jpeg': (b) => b.length > 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff,
  'image/png': (b) => b.length > 8 && b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])),
  'image/webp': (b) => b.length > 12 && b.subarray(0, 4).toString('latin1') === 'RIFF' && b.subarray(8, 12).toString('latin1') === 'WEBP',
  'application/pdf': (b) => b.subarray(0, 5).toString('latin1') === '%PDF-',
  'application/dicom': (b) => b.length > 132 && b.subarray(128, 132).toString('latin1') === 'DICM',
};

export async function addAttachment(deps: ConsultDeps, ctx: AccessContext, input: AttachmentInput): Promise<DocumentReference> {
  const check = ATTACHMENT_TYPES[input.contentType];
  if (!check) throw badRequest(`Loại tệp ${input.contentType} không được nhận; chỉ nhận ${Object.keys(ATTACHMENT_TYPES).join(', ')}`);
  const bytes = Buffer.from(input.data, 'base64');
  if (bytes.length === 0) throw badRequest('Tệp rỗng (the file is empty)');
  if (bytes.length > deps.maxAttachmentBytes) throw tooLarge(`Tệp quá lớn: ${bytes.length} byte, tối đa ${deps.maxAttachmentBytes} (file too large)`);
  if (!check(bytes)) throw badRequest(`Nội dung tệp không phải ${input.contentType} (the file's content does not match its type)`);
  return deps.store.as(ctx, 'consult.request').transaction(async (tx) => {
    await tx.read('Patient', input.patientId); // patient reach
    const existing = await tx.searchOne<DocumentReference>('DocumentReference', { identifier: `${ATTACHMENT_ID_SYSTEM}|${input.clientId}` });
    if (existing) {
      await assertPatientAttachment(tx, existing, input.patientId);
      return existing;
    }
    const binary = await tx.create<Binary>({
      resourceType: 'Binary',
      contentType: input.contentType,
      securityContext: { reference: `Patient/${input.patientId}` },
      data: bytes.toString('base64'),
    });
    const now = new Date().toISOString();
    const doc = await tx.create<DocumentReference>({
      resourceType: 'DocumentReference',
      identifier: [{ system: ATTACHMENT_ID_SYSTEM, value: input.clientId }],
      status: 'current',
      type: { text: input.contentType.startsWith('image/') ? 'Hình ảnh' : input.contentType === 'application/dicom' ? 'Ảnh DICOM' : 'Tài liệu' },
      subject: { reference: `Patient/${input.patientId}` },
      date: now,
      ...(ctx.actor.practitionerId ? { author: [{ reference: `Practitioner/${ctx.actor.practitionerId}` }] } : {}),
      content: [
        {
          attachment: {
            contentType: input.contentType,
            url: `Binary/${binary.id}`,
            size: bytes.length,
            hash: createHash('sha1').update(bytes).digest('base64'),
            title: input.title.slice(0, 200),
            creation: now,
          },
        },
      ],
    });
    await tx.record({
      action: 'create',
      resourceType: 'DocumentReference',
      resourceId: doc.id,
      patientIds: [input.patientId],
      detail: { bytes: bytes.length, contentType: input.contentType },
    });
    return doc;
  });
}

/** The patient a Binary belongs to (its securityContext), if it names one. */
function ownerOf(binary: Binary): string | undefined {
  return ref(binary.securityContext, 'Patient');
}

/**
 * Reads the Binary a DocumentReference points at and checks that it belongs to `patientId` and
 * that the actor reaches its owner. A refusal names the real owner (the denial is audited so).
 */
async function binaryOf(tx: Repository, doc: DocumentReference, patientId: string): Promise<Binary> {
  const binaryId = ref({ reference: doc.content?.[0]?.attachment?.url }, 'Binary');
  if (!binaryId) throw notFound('Tài liệu không có nội dung (no content)');
  const binary = await tx.tryRead<Binary>('Binary', binaryId);
  if (!binary) throw notFound('Tài liệu không có nội dung (no content)');
  const owner = ownerOf(binary);
  if (!owner) throw new AccessDenied(`Binary/${binaryId} không gắn với người bệnh nào (not linked to a patient)`);
  if (!(await tx.reaches(owner)))
    throw new AccessDenied(`Không có quyền truy cập nội dung này (Binary/${binaryId} belongs to a patient not in your care)`, 403, false, owner);
  if (owner !== patientId)
    throw new AccessDenied(`Nội dung của tài liệu thuộc người bệnh khác (Binary/${binaryId} belongs to another patient than the document)`, 403, false, owner);
  return binary;
}

/** A DocumentReference (and its Binary) named in a request must be this patient's. */
export async function assertPatientAttachment(tx: Repository, doc: DocumentReference | undefined, patientId: string, id = doc?.id): Promise<void> {
  const notThis = () => badRequest(`Tệp đính kèm ${id} không thuộc người bệnh này (attachment is not this patient's)`);
  if (!doc || doc.subject?.reference !== `Patient/${patientId}`) throw notThis();
  try {
    await binaryOf(tx, doc, patientId);
  } catch (err) {
    if (err instanceof AccessDenied || (err instanceof FhirError && err.status === 404)) throw notThis();
    throw err;
  }
}

export interface AttachmentContent {
  contentType: string;
  data: Buffer;
  title?: string;
}

/**
 * The bytes of an attachment, for someone who may read the document, its Binary and the Binary's
 * patient. `action` is the domain action of the route serving it (e.g. 'record.own' for a citizen's
 * own documents); the read is one audited unit naming the patient.
 */
export async function attachmentContent(
  deps: ConsultDeps,
  ctx: AccessContext,
  documentId: string,
  action: DomainAction = 'consult.view',
): Promise<AttachmentContent> {
  return deps.store.as(ctx, action).transaction(async (tx) => {
    const doc = await tx.read<DocumentReference>('DocumentReference', documentId);
    const patientId = ref(doc.subject, 'Patient');
    if (!patientId) throw new AccessDenied(`DocumentReference/${documentId} is not linked to a patient`);
    const binary = await binaryOf(tx, doc, patientId);
    await tx.record({
      action: 'read',
      resourceType: 'DocumentReference',
      resourceId: documentId,
      patientIds: [patientId],
      detail: { content: `Binary/${binary.id}` },
    });
    return { contentType: binary.contentType, data: Buffer.from(binary.data ?? '', 'base64'), title: doc.content[0].attachment.title };
  });
}
