/**
 * The receiving side's triage: accept (assigning specialists), ask for more information, decline,
 * or redirect to another facility — each guarded by the version the person looked at, so of two
 * people deciding at once exactly one wins — and the triage queue itself (consult_queue, most
 * urgent then longest waiting). Triage runs as `consult.triage`, the queue as `consult.view`.
 */
import type { Task } from '@medplum/fhirtypes';
import type { AccessContext } from '../auth/actor.ts';
import { badRequest } from '../fhir/outcome.ts';
import { assertVersion, notifySide, runCaseAction, searchByIds, transition, type ConsultDeps } from './case.ts';
import type { QueueRow, TriageInput } from './contract.ts';
import { isParam, param, QUEUE_PAGE, ref } from './model.ts';
import { queuePage } from './queue.ts';
import { describeRows } from './views.ts';
import { RESPONSE_TARGET_MINUTES, URGENCY_OF, type ConsultState } from './workflow.ts';

export async function triage(deps: ConsultDeps, ctx: AccessContext, caseId: string, input: TriageInput): Promise<ConsultState> {
  const c = await runCaseAction(
    deps,
    ctx,
    'consult.triage',
    caseId,
    input.action,
    'receiver',
    async (tx, c) => {
      assertVersion(c, input.version);
      const ifMatch = input.version ? `W/"${input.version}"` : undefined;
      if (input.action === 'accept') {
        const ids = input.specialistIds ?? [];
        if (ids.length === 0) throw badRequest('Cần phân công ít nhất một chuyên gia (assign at least one specialist)');
        for (const id of ids) if (!(await tx.tryRead('Practitioner', id))) throw badRequest(`Không có chuyên gia ${id} (unknown practitioner)`);
        await transition(
          tx,
          ctx.actor,
          c,
          'accept',
          (t) => ({
            ...t,
            input: [
              ...(t.input ?? []).filter((i) => !isParam(i, 'specialist')),
              ...ids.map((id) => ({ type: param('specialist', 'Chuyên gia được phân công'), valueReference: { reference: `Practitioner/${id}` } })),
            ],
          }),
          input.reason,
          ifMatch,
        );
        c.specialists = ids;
        await notifySide(tx, c, 'requester', 'Yêu cầu hội chẩn đã được tiếp nhận');
        await notifySide(tx, c, 'specialists', 'Bạn được phân công một ca hội chẩn');
      } else if (input.action === 'request-info' || input.action === 'decline') {
        if (!input.reason || input.reason.trim().length < 5) throw badRequest('Cần nêu lý do (state the reason)');
        if (input.action === 'decline') await tx.update({ ...c.request, status: 'revoked' });
        await transition(tx, ctx.actor, c, input.action, (t) => t, input.reason, ifMatch);
        await notifySide(
          tx,
          c,
          'requester',
          input.action === 'decline' ? `Yêu cầu hội chẩn bị từ chối: ${input.reason}` : `Cần bổ sung thông tin: ${input.reason}`,
        );
      } else {
        const to = input.redirectToOrganizationId;
        if (!to || !(await tx.tryRead('Organization', to))) throw badRequest('Cần chọn cơ sở chuyển đến (choose the facility to redirect to)');
        if (to === c.receivingOrg) throw badRequest('Cơ sở chuyển đến trùng cơ sở hiện tại');
        const from = c.receivingOrg;
        await tx.update({ ...c.request, performer: [{ reference: `Organization/${to}` }] });
        await transition(
          tx,
          ctx.actor,
          c,
          'redirect',
          (t) => ({
            ...t,
            owner: { reference: `Organization/${to}` },
            input: [...(t.input ?? []), { type: param('redirected-from', 'Chuyển từ cơ sở'), valueReference: { reference: `Organization/${from}` } }],
          }),
          input.reason,
          ifMatch,
        );
        c.receivingOrg = to;
        await notifySide(tx, c, 'receiver', 'Yêu cầu hội chẩn được chuyển đến cơ sở của bạn');
        await notifySide(tx, c, 'requester', 'Yêu cầu hội chẩn đã được chuyển cơ sở khác');
      }
    },
    { action: input.action },
  );
  return c.state;
}

/**
 * Requests waiting at my facility (at most QUEUE_PAGE), most urgent and longest waiting first,
 * with the response target: the order comes from consult_queue, the Tasks from the repository.
 */
export async function queue(deps: ConsultDeps, ctx: AccessContext): Promise<QueueRow[]> {
  const org = ctx.actor.organizationId;
  if (!org) return [];
  return deps.store.as(ctx, 'consult.view').transaction(async (tx) => {
    const ids = await queuePage(tx.sql, org, QUEUE_PAGE);
    const found = (await searchByIds(tx, 'Task', ids)) as Task[];
    const byId = new Map(found.map((t) => [t.id!, t]));
    const now = Date.now();
    const rows = ids
      .map((id) => byId.get(id))
      .filter((t): t is Task => !!t)
      .map((t) => {
        const urgency = URGENCY_OF[t.priority ?? 'routine'] ?? 'routine';
        const waited = Math.round((now - Date.parse(t.authoredOn!)) / 60_000);
        return {
          caseId: ref(t.focus, 'ServiceRequest'),
          urgency,
          priority: t.priority,
          authoredOn: t.authoredOn,
          waitingMinutes: waited,
          targetMinutes: RESPONSE_TARGET_MINUTES[urgency],
          overdue: waited > RESPONSE_TARGET_MINUTES[urgency],
          version: t.meta?.versionId,
        };
      });
    return describeRows(tx, 'queue', rows);
  });
}
