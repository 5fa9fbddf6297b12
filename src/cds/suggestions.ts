/**
 * What the clinician does with a card: accept one of its suggestions (its `create` actions become
 * DRAFTS in the record — e.g. a MedicationRequest with status draft — each with a FHIR Provenance
 * naming the service as a Device agent), override it with a reason, and later confirm (sign) a
 * draft, which adds a second Provenance (who confirmed, when) and keeps the service's. The CDS
 * Hooks feedback call goes back to the service either way.
 *
 * Rules: only the clinician the card was shown to acts on it, once; drafts are written with the
 * clinician's own rights (their repository: role policy, patient reach); `update` and `delete`
 * actions and system actions are never applied by the platform; a suggested resource is always
 * made a draft about the card's patient, whatever the service wrote in it.
 */
import type { Provenance, ProvenanceAgent, Reference, Resource } from '@medplum/fhirtypes';
import type { AccessContext } from '../auth/actor.ts';
import type { FhirStore } from '../fhir/store.ts';
import { conflict, notFound } from '../fhir/outcome.ts';
import { InputError } from '../http/input.ts';
import type { Accepted, Confirmed, Overridden } from './contract.ts';
import type { CdsClient, RawCard } from './client.ts';
import type { Registry } from './registry.ts';

/** Marks what decision support wrote: AI-suggested drafts and the Provenance records (owned by the cds domain). */
export const CDS_TAG = { system: 'https://fhir.cauyte.vn/CodeSystem/cds', code: 'ai-suggested', display: 'Gợi ý của dịch vụ AI/CDS' };
const PARTICIPANT = 'http://terminology.hl7.org/CodeSystem/provenance-participant-type';
const DRAFTABLE = new Set(['MedicationRequest', 'ServiceRequest', 'CarePlan']);

export const isCdsProvenance = (r: Resource): boolean => r.resourceType === 'Provenance' && !!r.meta?.tag?.some((t) => t.system === CDS_TAG.system);

interface CardRow {
  id: string;
  service: string;
  card_uuid: string | null;
  hook: string;
  patient_id: string;
  account_id: string | null;
  card: { raw: RawCard };
  outcome: string | null;
}

export class Suggestions {
  constructor(
    private readonly store: FhirStore,
    private readonly registry: Registry,
    private readonly client: CdsClient,
  ) {}

  /** The card, if it was shown to this clinician; 404 for anyone else (no hint that it exists). */
  private async card(ctx: AccessContext, id: string): Promise<CardRow> {
    const row = (await this.store.as(ctx, 'cds.use').sql.query<CardRow>('SELECT * FROM cds_card WHERE id = $1', [id])).rows[0];
    if (!row || !ctx.actor.accountId || row.account_id !== ctx.actor.accountId) throw notFound('Không có thẻ gợi ý này (no such card)');
    if (row.outcome) throw conflict(`Thẻ này đã được xử lý (${row.outcome}) (already acted on)`);
    return row;
  }

  async accept(ctx: AccessContext, cardId: string, suggestionUuid: string): Promise<Accepted> {
    const row = await this.card(ctx, cardId);
    const suggestion = (row.card.raw.suggestions ?? []).find((s) => s.uuid === suggestionUuid);
    if (!suggestion) throw new InputError('Thẻ không có gợi ý này (the card has no such suggestion)');
    const service = await this.registry.row(row.service);
    const now = new Date().toISOString();
    const drafts: string[] = [];
    const skipped: string[] = [];
    const agentDevice: ProvenanceAgent['who'] = { reference: `Device/${service.device_id}`, display: `${service.name} ${service.version}` };
    const me: ProvenanceAgent['who'] | undefined = ctx.actor.practitionerId
      ? { reference: `Practitioner/${ctx.actor.practitionerId}`, display: ctx.actor.displayName }
      : undefined;
    await this.store.as(ctx).transaction(async (tx) => {
      for (const action of suggestion.actions ?? []) {
        const type = action.resource?.resourceType;
        if (action.type !== 'create' || !type || !DRAFTABLE.has(type)) {
          skipped.push(`${String(action.type)} ${type ?? ''}`.trim());
          continue;
        }
        const { id: _ignored, meta: _meta, ...body } = action.resource as Resource & Record<string, unknown>;
        const draft = (await tx.create({
          ...body,
          resourceType: type,
          status: 'draft',
          subject: { reference: `Patient/${row.patient_id}` },
          meta: { tag: [CDS_TAG] },
        } as Resource)) as Resource;
        drafts.push(`${type}/${draft.id}`);
      }
    });
    // The service's part, recorded by decision support (it owns these Provenance records).
    let provenanceId: string | undefined;
    if (drafts.length)
      await this.store.as(ctx, 'cds.use').transaction(async (tx) => {
        const prov = await tx.create<Provenance>({
          resourceType: 'Provenance',
          meta: { tag: [CDS_TAG] },
          target: drafts.map((reference) => ({ reference })),
          recorded: now,
          activity: {
            coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-DataOperation', code: 'CREATE' }],
            text: 'Gợi ý của dịch vụ AI, bác sĩ chấp nhận làm bản nháp',
          },
          reason: [{ text: suggestion.label ? String(suggestion.label).slice(0, 200) : 'CDS suggestion' }],
          agent: [
            { type: { coding: [{ system: PARTICIPANT, code: 'author', display: 'Dịch vụ AI/CDS gợi ý' }] }, who: agentDevice },
            ...(me ? [{ type: { coding: [{ system: PARTICIPANT, code: 'enterer', display: 'Bác sĩ chấp nhận gợi ý' }] }, who: me }] : []),
          ],
          entity: [
            { role: 'source', what: { identifier: { system: 'urn:ietf:rfc:3986', value: `urn:uuid:${row.card_uuid ?? row.id}` }, display: 'CDS card' } },
          ],
        });
        provenanceId = prov.id;
        await tx.record({ action: 'cds.accept', patientIds: [row.patient_id], detail: { card: row.id, service: service.id, drafts } });
      });
    const sent = await this.client.feedback(service, {
      card: row.card_uuid ?? row.id,
      outcome: 'accepted',
      acceptedSuggestions: [{ id: suggestionUuid }],
      outcomeTimestamp: now,
    });
    await this.store
      .as(ctx, 'cds.use')
      .sql.query("UPDATE cds_card SET outcome = 'accepted', outcome_by = $2, outcome_at = now(), accepted = $3::jsonb, feedback_status = $4 WHERE id = $1", [
        row.id,
        ctx.actor.username ?? ctx.actor.accountId,
        JSON.stringify({ suggestion: suggestionUuid, drafts, ...(provenanceId ? { provenance: provenanceId } : {}) }),
        sent ? 'sent' : 'failed',
      ]);
    return { card: row.id, drafts, skipped, feedback: sent ? 'sent' : 'failed' };
  }

  async override(ctx: AccessContext, cardId: string, reason: string, code?: string): Promise<Overridden> {
    const row = await this.card(ctx, cardId);
    const offered = (row.card.raw.overrideReasons ?? []).find((r) => r.code === code);
    if (code && !offered) throw new InputError('Lý do không có trong danh sách của thẻ (not one of the card’s override reasons)');
    const service = await this.registry.row(row.service);
    const now = new Date().toISOString();
    const sent = await this.client.feedback(service, {
      card: row.card_uuid ?? row.id,
      outcome: 'overridden',
      overrideReason: {
        ...(offered ? { reason: { code: offered.code, system: offered.system, display: offered.display } } : {}),
        userComment: reason,
      },
      outcomeTimestamp: now,
    });
    await this.store.as(ctx, 'cds.use').transaction(async (tx) => {
      await tx.sql.query(
        "UPDATE cds_card SET outcome = 'overridden', outcome_by = $2, outcome_at = now(), override_reason = $3, feedback_status = $4 WHERE id = $1",
        [row.id, ctx.actor.username ?? ctx.actor.accountId, offered ? `${String(offered.display)}: ${reason}` : reason, sent ? 'sent' : 'failed'],
      );
      await tx.record({ action: 'cds.override', patientIds: [row.patient_id], reason, detail: { card: row.id, service: service.id } });
    });
    return { card: row.id, feedback: sent ? 'sent' : 'failed' };
  }

  /** The clinician confirms (signs) an AI-suggested draft: it becomes active; both Provenances stay. */
  async confirm(ctx: AccessContext, type: string, id: string): Promise<Confirmed> {
    const repo = this.store.as(ctx);
    const draft = (await repo.read(type, id)) as Resource & { status?: string; subject?: Reference };
    if (!draft.meta?.tag?.some((t) => t.system === CDS_TAG.system))
      throw new InputError('Đây không phải bản nháp do dịch vụ AI gợi ý (not an AI-suggested draft)');
    if (draft.status !== 'draft') throw conflict(`Bản nháp đã được xử lý (status ${draft.status})`);
    if (!ctx.actor.practitionerId) throw new InputError('Chỉ bác sĩ mới xác nhận được (only a practitioner can confirm)');
    const patientId = draft.subject?.reference?.split('/')[1];
    const updated = await repo.update({ ...draft, status: 'active' } as Resource);
    // The service's Provenance written when the suggestion was accepted (kept with the card).
    const domain = this.store.as(ctx, 'cds.use');
    const kept = (
      await domain.sql.query<{ accepted: { provenance?: string } }>("SELECT accepted FROM cds_card WHERE accepted->'drafts' ? $1", [`${type}/${id}`])
    ).rows[0];
    const suggested = kept?.accepted.provenance ? [await domain.read<Provenance>('Provenance', kept.accepted.provenance)] : [];
    const device = suggested.flatMap((p) => p.agent.filter((a) => a.who?.reference?.startsWith('Device/')).map((a) => a.who!))[0];
    const now = new Date().toISOString();
    const confirmation = await this.store.as(ctx, 'cds.use').transaction(async (tx) => {
      const p = await tx.create<Provenance>({
        resourceType: 'Provenance',
        meta: { tag: [CDS_TAG] },
        target: [{ reference: `${type}/${id}/_history/${updated.meta?.versionId ?? ''}`.replace(/\/_history\/$/, '') }],
        recorded: now,
        activity: { coding: [{ system: PARTICIPANT, code: 'verifier' }], text: 'Bác sĩ xác nhận gợi ý của dịch vụ AI' },
        agent: [
          {
            type: { coding: [{ system: PARTICIPANT, code: 'verifier', display: 'Bác sĩ xác nhận' }] },
            who: { reference: `Practitioner/${ctx.actor.practitionerId}`, display: ctx.actor.displayName },
          },
          ...(device ? [{ type: { coding: [{ system: PARTICIPANT, code: 'author', display: 'Dịch vụ AI/CDS gợi ý' }] }, who: device }] : []),
        ],
      });
      await tx.record({ action: 'cds.confirm', resourceType: type, resourceId: id, patientIds: patientId ? [patientId] : [], detail: { provenance: p.id } });
      return p;
    });
    return { resource: `${type}/${id}`, status: 'active', provenance: [...suggested.map((p) => `Provenance/${p.id}`), `Provenance/${confirmation.id}`] };
  }
}
