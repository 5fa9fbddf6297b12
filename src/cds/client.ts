/**
 * The CDS Hooks 2.0 client: discovery of a CDS server's services, a hook fired for a patient
 * (context built here, prefetch filled through the clinician's guarded repository), each approved
 * service called with a 1 s limit, its cards checked and kept (cds_card) for accept/override,
 * and the feedback call sent back.
 *
 * Rules:
 *   - only services approved for the hook right now are called; approval is read again just
 *     before data leaves (no cache outlives a suspension);
 *   - a slow or failing service never blocks the clinician: its answer is dropped, the error
 *     counted (cds_call); the others' cards are shown;
 *   - every call (which data left, to whom, why) is one audit row naming the patient, written
 *     whether or not the service answered — the data left either way;
 *   - system actions are returned for a person to see, never applied;
 *   - redirects are refused: only the registered address receives anything.
 */
import type { CdsClientKey } from './client-key.ts';
import { randomUUID } from 'node:crypto';
import type { Appointment, Bundle, QuestionnaireResponse, Resource } from '@medplum/fhirtypes';
import type { AccessContext } from '../auth/actor.ts';
import type { DomainAction } from '../auth/policy.ts';
import { ICD10_SYSTEM } from '../terminology/icd10.ts';
import type { FhirStore } from '../fhir/store.ts';
import type { CardView, Discovered, Hook, HookRequest, HookResult, ProposedAppointment } from './contract.ts';
import { fillPrefetch } from './prefetch.ts';
import type { Registry, ServiceRow } from './registry.ts';

export const CALL_TIMEOUT_MS = 1000;

/** What a data type is called in the citizen's access log. */
const TYPE_WORDS: Record<string, string> = {
  Patient: 'thông tin hành chính',
  AllergyIntolerance: 'dị ứng',
  MedicationRequest: 'đơn thuốc',
  MedicationStatement: 'thuốc đang dùng',
  Condition: 'chẩn đoán',
  Observation: 'chỉ số sức khỏe',
  Encounter: 'lần khám',
  Appointment: 'lịch hẹn',
  QuestionnaireResponse: 'câu trả lời trước khi khám',
};
const HOOK_WORDS: Record<Hook, string> = {
  'patient-view': 'khi bác sĩ mở hồ sơ',
  'order-select': 'khi bác sĩ chọn thuốc',
  'order-sign': 'khi bác sĩ ký đơn thuốc',
  'appointment-book': 'khi đặt lịch khám từ xa',
  'encounter-discharge': 'khi kết thúc lần khám',
};

/** "Dịch vụ AI «X» đã đọc dị ứng, thuốc đang dùng của bạn — để gợi ý khi bác sĩ kê đơn". */
export function accessSentence(name: string, hook: Hook, sent: string[]): string {
  const what = sent.length ? sent.map((t) => TYPE_WORDS[t] ?? t).join(', ') : 'ngữ cảnh lần khám (không kèm dữ liệu hồ sơ)';
  return `Dịch vụ AI «${name}» đã đọc ${what} của bạn — để gợi ý ${HOOK_WORDS[hook]}`;
}

/** The visit being booked (appointment-book before it exists): a proposed Appointment, its answers contained. */
export function proposedAppointmentOf(patientId: string, p: ProposedAppointment): Appointment {
  const answers = Object.entries(p.answers ?? {});
  const qr: QuestionnaireResponse | undefined = answers.length
    ? {
        resourceType: 'QuestionnaireResponse',
        id: 'answers',
        status: 'in-progress',
        subject: { reference: `Patient/${patientId}` },
        item: answers.map(([linkId, v]) => ({ linkId, answer: [typeof v === 'boolean' ? { valueBoolean: v } : { valueString: v }] })),
      }
    : undefined;
  return {
    resourceType: 'Appointment',
    id: 'proposed-1',
    status: 'proposed',
    ...(qr ? { contained: [qr], supportingInformation: [{ reference: '#answers' }] } : {}),
    reasonCode: [{ coding: [{ system: ICD10_SYSTEM, code: p.icd10.code, ...(p.icd10.display ? { display: p.icd10.display } : {}) }] }],
    participant: [{ actor: { reference: `Patient/${patientId}` }, status: 'needs-action' }],
  };
}

/**
 * The context as one service may receive it, and the record types it carries: answers contained
 * in a proposed appointment go only to a service approved for QuestionnaireResponse.
 */
export function scopedContext(context: Record<string, unknown>, scopes: readonly string[]): { context: Record<string, unknown>; types: string[] } {
  const types = new Set<string>();
  let out = context;
  const appts = context.appointments as Bundle | undefined;
  if (appts?.entry?.length) {
    types.add('Appointment');
    const entry = appts.entry.map((e) => {
      const a = e.resource as Appointment;
      if (!a?.contained?.length) return e;
      if (scopes.includes('QuestionnaireResponse')) {
        types.add('QuestionnaireResponse');
        return e;
      }
      const { contained: _c, supportingInformation, ...rest } = a;
      const kept = (supportingInformation ?? []).filter((r) => !r.reference?.startsWith('#'));
      return { resource: { ...rest, ...(kept.length ? { supportingInformation: kept } : {}) } };
    });
    out = { ...context, appointments: { ...appts, entry } };
  }
  if ((context.draftOrders as Bundle | undefined)?.entry?.length) types.add('MedicationRequest');
  return { context: out, types: [...types] };
}

export interface RawCard {
  uuid?: string;
  summary?: unknown;
  detail?: unknown;
  indicator?: unknown;
  source?: { label?: unknown; url?: unknown; topic?: { code?: string; display?: string } };
  suggestions?: { label?: unknown; uuid?: unknown; isRecommended?: unknown; actions?: RawAction[] }[];
  selectionBehavior?: unknown;
  overrideReasons?: { code?: unknown; system?: unknown; display?: unknown }[];
  links?: { label?: unknown; url?: unknown; type?: unknown }[];
}
export interface RawAction {
  type?: unknown;
  description?: unknown;
  resource?: Resource;
  resourceId?: unknown;
}

const str = (v: unknown, max: number) => (typeof v === 'string' && v.trim() ? v.slice(0, max) : undefined);
/** A link the screen renders as <a href>: http(s) only (never javascript:/data:). */
const webLink = (v: unknown, max: number) => {
  const s = str(v, max);
  return s && /^https?:\/\//i.test(s) ? s : undefined;
};

/** A card as the spec says it must look (summary, indicator, source.label); undefined otherwise. */
export function checkCard(raw: RawCard, id: string, service: ServiceRow): CardView | undefined {
  const summary = str(raw.summary, 140);
  const label = str(raw.source?.label, 200);
  const indicator = raw.indicator === 'info' || raw.indicator === 'warning' || raw.indicator === 'critical' ? raw.indicator : undefined;
  if (!summary || !label || !indicator) return undefined;
  return {
    id,
    summary,
    ...(str(raw.detail, 4000) ? { detail: str(raw.detail, 4000) } : {}),
    indicator,
    source: {
      label,
      ...(webLink(raw.source?.url, 500) ? { url: webLink(raw.source?.url, 500) } : {}),
      ...(raw.source?.topic?.display ? { topic: raw.source.topic.display } : {}),
    },
    service: { id: service.id, name: service.name, version: service.version, vendor: service.vendor, riskClass: service.risk_class },
    suggestions: (raw.suggestions ?? []).flatMap((s) => {
      const sl = str(s.label, 200);
      const su = str(s.uuid, 100);
      if (!sl || !su) return [];
      return [
        {
          uuid: su,
          label: sl,
          ...(s.isRecommended === true ? { isRecommended: true } : {}),
          actions: (s.actions ?? []).map((a) => ({
            type: str(a.type, 20) ?? '?',
            ...(str(a.description, 500) ? { description: str(a.description, 500) } : {}),
            ...(a.resource?.resourceType ? { resourceType: a.resource.resourceType } : {}),
          })),
        },
      ];
    }),
    ...(str(raw.selectionBehavior, 20) ? { selectionBehavior: str(raw.selectionBehavior, 20) } : {}),
    overrideReasons: (raw.overrideReasons ?? []).flatMap((r) =>
      str(r.code, 100) && str(r.display, 200)
        ? [{ code: str(r.code, 100)!, display: str(r.display, 200)!, ...(str(r.system, 300) ? { system: str(r.system, 300) } : {}) }]
        : [],
    ),
    links: (raw.links ?? []).flatMap((l) =>
      str(l.label, 200) && webLink(l.url, 500) ? [{ label: str(l.label, 200)!, url: str(l.url, 500)!, type: str(l.type, 20) ?? 'absolute' }] : [],
    ),
  };
}

export class CdsClient {
  constructor(
    private readonly store: FhirStore,
    private readonly registry: Registry,
    /** Where the bundled service listens now (undefined when it does not run). */
    private readonly bundledUrl: () => string | undefined,
    /** Signs every request (CDS Hooks §Trusting CDS Clients: a JWT per call, aud = the URL called). */
    private readonly key: CdsClientKey,
    private readonly timeoutMs = CALL_TIMEOUT_MS,
  ) {}

  baseOf(row: Pick<ServiceRow, 'base_url'>): string | undefined {
    return row.base_url === 'bundled' ? this.bundledUrl() : row.base_url.replace(/\/$/, '');
  }

  /** GET {base}/cds-services. */
  async discover(baseUrl: string): Promise<Discovered> {
    const base = this.baseOf({ base_url: baseUrl });
    if (!base) throw new Error('Dịch vụ đi kèm không chạy (the bundled service is not running)');
    // redirect: 'error' — only the registered address is ever called (no hop to an internal one).
    const res = await fetch(`${base}/cds-services`, {
      signal: AbortSignal.timeout(5 * this.timeoutMs),
      headers: { accept: 'application/json', authorization: await this.key.bearer(`${base}/cds-services`) },
      redirect: 'error',
    });
    if (!res.ok) throw new Error(`${base}/cds-services answered ${res.status}`);
    const body = (await res.json()) as { services?: { id?: string; hook?: string; title?: string; description?: string; prefetch?: Record<string, string> }[] };
    return {
      baseUrl,
      services: (body.services ?? []).flatMap((s) =>
        typeof s.id === 'string' && typeof s.hook === 'string'
          ? [{ id: s.id, hook: s.hook, title: s.title, description: s.description ?? '', prefetch: s.prefetch ?? {} }]
          : [],
      ),
    };
  }

  /** Fires a hook for a patient: every approved service, at once, each within the time limit. */
  async fire(ctx: AccessContext, hook: Hook, req: HookRequest, action: Extract<DomainAction, 'cds.use' | 'cds.advice'> = 'cds.use'): Promise<HookResult> {
    const repo = this.store.as(ctx);
    // The clinician must reach the patient: a refusal here is theirs (403, audited), before anything leaves.
    await repo.read('Patient', req.patientId);
    const services = await this.registry.callable(hook);
    const context = await this.context(ctx, hook, req);
    const values: Record<string, string | undefined> = {
      'context.patientId': req.patientId,
      'context.encounterId': req.encounterId,
      'context.userId': context.userId as string | undefined,
      userPractitionerId: ctx.actor.practitionerId,
      userPatientId: ctx.actor.patientId,
    };
    const results = await Promise.all(services.map((s) => this.callOne(ctx, action, s, hook, req.patientId, context, values)));
    return {
      hook,
      cards: results.flatMap((r) => r.cards),
      called: services.length,
      dropped: results.flatMap((r) => (r.dropped ? [{ service: r.name, reason: r.dropped }] : [])),
      systemActions: results.flatMap((r) => r.systemActions),
    };
  }

  private async context(ctx: AccessContext, hook: Hook, req: HookRequest): Promise<Record<string, unknown>> {
    const userId = ctx.actor.practitionerId ? `Practitioner/${ctx.actor.practitionerId}` : ctx.actor.patientId ? `Patient/${ctx.actor.patientId}` : undefined;
    const base: Record<string, unknown> = {
      ...(userId ? { userId } : {}),
      patientId: req.patientId,
      ...(req.encounterId ? { encounterId: req.encounterId } : {}),
    };
    if (hook === 'order-select' || hook === 'order-sign') {
      const drafts = (req.items ?? []).map((item, i) => ({
        resourceType: 'MedicationRequest' as const,
        id: `draft-${i}`,
        status: 'draft' as const,
        intent: 'proposal' as const,
        subject: { reference: `Patient/${req.patientId}` },
        medicationCodeableConcept: {
          text: item.name,
          ...(item.atc ? { coding: [{ system: 'http://www.whocc.no/atc', code: item.atc, display: item.name }] } : {}),
        },
      }));
      base.draftOrders = { resourceType: 'Bundle', type: 'collection', entry: drafts.map((resource) => ({ resource })) } satisfies Bundle;
      if (hook === 'order-select')
        base.selections = (req.selections ?? drafts.map((_, i) => i)).filter((i) => i < drafts.length).map((i) => `MedicationRequest/draft-${i}`);
    }
    if (hook === 'appointment-book') {
      const found = req.appointmentId ? await this.store.as(ctx).tryRead<Appointment>('Appointment', req.appointmentId) : undefined;
      // Only the hook patient's own appointment goes out (never another patient's under this one's name).
      const appt = found?.participant?.some((p) => p.actor?.reference === `Patient/${req.patientId}`) ? found : undefined;
      const proposed = req.proposed ? proposedAppointmentOf(req.patientId, req.proposed) : undefined;
      base.appointments = {
        resourceType: 'Bundle',
        type: 'collection',
        entry: [...(appt ? [{ resource: appt }] : []), ...(proposed ? [{ resource: proposed }] : [])],
      } satisfies Bundle;
    }
    return base;
  }

  private async callOne(
    ctx: AccessContext,
    action: Extract<DomainAction, 'cds.use' | 'cds.advice'>,
    s: ServiceRow,
    hook: Hook,
    patientId: string,
    fullContext: Record<string, unknown>,
    values: Record<string, string | undefined>,
  ): Promise<{ name: string; cards: CardView[]; dropped?: string; systemActions: HookResult['systemActions'] }> {
    const domain = this.store.as(ctx, action);
    const started = performance.now();
    const filled = await fillPrefetch(this.store.as(ctx), s.prefetch ?? {}, values, s.data_scopes);
    const scoped = scopedContext(fullContext, s.data_scopes);
    const sent = [...new Set([...filled.sent, ...scoped.types])];
    // Approval is read again now: a suspension while the prefetch was read stops the call.
    if (!(await this.registry.stillApproved(s.id))) return { name: s.name, cards: [], dropped: 'suspended', systemActions: [] };
    const base = this.baseOf(s);
    const hookInstance = randomUUID();
    let error: string | undefined;
    let body: { cards?: RawCard[]; systemActions?: RawAction[] } | undefined;
    if (!base) error = 'not running';
    else {
      try {
        const url = `${base}/cds-services/${encodeURIComponent(s.service_id)}`;
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/json', authorization: await this.key.bearer(url) },
          body: JSON.stringify({ hookInstance, hook, context: scoped.context, prefetch: filled.prefetch }),
          signal: AbortSignal.timeout(this.timeoutMs),
          redirect: 'error',
        });
        if (!res.ok) error = `HTTP ${res.status}`;
        else body = (await res.json()) as typeof body;
      } catch (err) {
        error = (err as Error).name === 'TimeoutError' ? `timeout (> ${this.timeoutMs} ms)` : (err as Error).message.slice(0, 200);
      }
    }
    const ms = Math.round(performance.now() - started);
    if (!error && !Array.isArray(body?.cards)) error = 'answer without cards';
    const pairs: { card: CardView; raw: RawCard }[] = [];
    for (const raw of error ? [] : body!.cards!.slice(0, 20)) {
      const card = checkCard(raw, randomUUID(), s);
      if (card) pairs.push({ card, raw });
    }
    const cards = pairs.map((p) => p.card);
    await domain.transaction(async (tx) => {
      await tx.sql.query('INSERT INTO cds_call (service, hook, ms, ok, error, cards, sent_types) VALUES ($1, $2, $3, $4, $5, $6, $7)', [
        s.id,
        hook,
        ms,
        !error,
        error ?? null,
        cards.length,
        sent,
      ]);
      for (const { card, raw } of pairs)
        await tx.sql.query('INSERT INTO cds_card (id, service, card_uuid, hook, patient_id, account_id, card) VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb)', [
          card.id,
          s.id,
          str(raw.uuid, 100) ?? null,
          hook,
          patientId,
          ctx.actor.accountId ?? null,
          JSON.stringify({ view: card, raw }),
        ]);
      await tx.record({
        action: 'cds.call',
        patientIds: [patientId],
        reason: accessSentence(s.name, hook, sent),
        outcome: error ? 'failure' : 'success',
        detail: {
          service: s.id,
          name: s.name,
          device: `Device/${s.device_id}`,
          to: base ?? s.base_url,
          hook,
          sent,
          withheld: filled.withheld,
          ms,
          ...(error ? { error } : {}),
        },
      });
    });
    const systemActions = (body?.systemActions ?? []).map((a) => ({
      service: s.name,
      type: str(a.type, 20) ?? '?',
      ...(str(a.description, 500) ? { description: str(a.description, 500) } : {}),
      ...(a.resource?.resourceType ? { resourceType: a.resource.resourceType } : {}),
    }));
    return { name: s.name, cards, ...(error ? { dropped: error } : {}), systemActions };
  }

  /** POST {service}/feedback (CDS Hooks 2.0 §Feedback), within the time limit; false when it did not arrive. */
  async feedback(s: ServiceRow, item: Record<string, unknown>): Promise<boolean> {
    const base = this.baseOf(s);
    if (!base) return false;
    try {
      const url = `${base}/cds-services/${encodeURIComponent(s.service_id)}/feedback`;
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: await this.key.bearer(url) },
        body: JSON.stringify({ feedback: [item] }),
        signal: AbortSignal.timeout(this.timeoutMs),
        redirect: 'error',
      });
      return res.ok;
    } catch {
      return false;
    }
  }
}
