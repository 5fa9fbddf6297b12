/**
 * After the conclusion, the requesting facility decides: it acknowledges the advice (following
 * it, or deciding otherwise with a reason — a Provenance says who decided), sets a follow-up date,
 * later records the outcome; and it sees the follow-ups that are overdue. Runs as
 * `consult.request` (acknowledge, follow-up) and `consult.view` (the overdue list).
 */
import type { Provenance, Task } from '@medplum/fhirtypes';
import type { AccessContext } from '../auth/actor.ts';
import { badRequest } from '../fhir/outcome.ts';
import { notifySide, runCaseAction, transition, type ConsultDeps } from './case.ts';
import { latestConclusion } from './conclusions.ts';
import type { AcknowledgeInput, FollowUpInput, FollowUpRow } from './contract.ts';
import { isConsultTask, param, ref, STATE_SYSTEM } from './model.ts';
import { describeRows } from './views.ts';
import { assertTransition, type ConsultState } from './workflow.ts';

export async function acknowledge(deps: ConsultDeps, ctx: AccessContext, caseId: string, input: AcknowledgeInput): Promise<ConsultState> {
  if (input.decision === 'different' && (!input.reason || input.reason.trim().length < 5))
    throw badRequest('Khi quyết định khác khuyến cáo, cần ghi rõ lý do (give the reason for a different decision)');
  const a = ctx.actor;
  const c = await runCaseAction(
    deps,
    ctx,
    'consult.request',
    caseId,
    'acknowledge',
    'requester',
    async (tx, c) => {
      assertTransition('acknowledge', c.state);
      const doc = await latestConclusion(tx, c);
      const due = new Date(Date.now() + input.followUpDays * 86_400_000).toISOString();
      await transition(
        tx,
        a,
        c,
        'acknowledge',
        (t) => ({
          ...t,
          executionPeriod: { start: t.authoredOn, end: due },
          output: [
            ...(t.output ?? []),
            { type: param('decision', 'Quyết định của cơ sở điều trị'), valueCode: input.decision },
            ...(input.reason ? [{ type: param('decision-reason', 'Lý do'), valueString: input.reason }] : []),
            ...(input.plan ? [{ type: param('decision-plan', 'Kế hoạch điều trị'), valueString: input.plan }] : []),
          ],
        }),
        input.decision === 'accept' ? 'theo khuyến cáo' : `quyết định khác: ${input.reason}`,
      );
      // Who decided: the treating clinician at the requesting facility, on the record.
      await tx.create<Provenance>({
        resourceType: 'Provenance',
        target: [{ reference: `Task/${c.task.id}` }, ...(doc ? [{ reference: `Composition/${doc.id}` }] : []), { reference: `Patient/${c.patientId}` }],
        recorded: new Date().toISOString(),
        activity: { text: input.decision === 'accept' ? 'Quyết định điều trị theo khuyến cáo hội chẩn' : 'Quyết định điều trị khác khuyến cáo hội chẩn' },
        reason: input.reason ? [{ text: input.reason }] : undefined,
        agent: [
          {
            type: {
              coding: [
                { system: 'http://terminology.hl7.org/CodeSystem/provenance-participant-type', code: 'verifier', display: 'Người quyết định (điều trị)' },
              ],
            },
            who: a.practitionerId ? { reference: `Practitioner/${a.practitionerId}` } : { display: a.username },
          },
        ],
      });
      await notifySide(
        tx,
        c,
        'specialists',
        input.decision === 'accept' ? 'Tuyến dưới đã nhận kết luận và điều trị theo khuyến cáo' : 'Tuyến dưới đã nhận kết luận và quyết định khác khuyến cáo',
      );
    },
    { decision: input.decision },
  );
  return c.state;
}

export async function followUp(deps: ConsultDeps, ctx: AccessContext, caseId: string, input: FollowUpInput): Promise<ConsultState> {
  const c = await runCaseAction(
    deps,
    ctx,
    'consult.request',
    caseId,
    'follow-up',
    'requester',
    async (tx, c) => {
      await transition(
        tx,
        ctx.actor,
        c,
        'follow-up',
        (t) => ({
          ...t,
          output: [
            ...(t.output ?? []),
            { type: param('outcome', 'Kết quả theo dõi'), valueCode: input.outcome },
            ...(input.note ? [{ type: param('outcome-note', 'Ghi chú'), valueString: input.note }] : []),
          ],
        }),
        input.outcome,
      );
    },
    { outcome: input.outcome },
  );
  return c.state;
}

/** Acknowledged cases of my facility whose follow-up date has passed. */
export async function overdueFollowUps(deps: ConsultDeps, ctx: AccessContext): Promise<FollowUpRow[]> {
  const org = `Organization/${ctx.actor.organizationId ?? '-'}`;
  return deps.store.as(ctx, 'consult.view').transaction(async (tx) => {
    const tasks = (
      await tx.search<Task>('Task', {
        requester: org,
        'business-status': `${STATE_SYSTEM}|acknowledged`,
        period: `lt${new Date().toISOString()}`,
        _count: '500',
      })
    ).filter(isConsultTask);
    const rows = tasks.map((t) => ({
      caseId: ref(t.focus, 'ServiceRequest'),
      due: t.executionPeriod?.end,
      overdueDays: Math.floor((Date.now() - Date.parse(t.executionPeriod!.end!)) / 86_400_000),
    }));
    return describeRows(tx, 'overdue-follow-ups', rows);
  });
}
