/**
 * The life of a case-conference request (yêu cầu hội chẩn), as data: which action moves a case
 * from which states to which, and which side may take it. Anything else is a 422 with a message.
 */
import { businessRule } from '../fhir/outcome.ts';

export const CONSULT_STATES = [
  'draft',
  'submitted',
  'info-requested',
  'accepted',
  'declined',
  'withdrawn',
  'scheduled',
  'concluded',
  'acknowledged',
  'closed',
] as const;
export type ConsultState = (typeof CONSULT_STATES)[number];

/** requester = the requesting facility; receiver = the receiving facility; specialist = assigned to the case. */
export type Side = 'requester' | 'receiver' | 'specialist' | 'system';

export const CONSULT_ACTIONS = {
  submit: { from: ['draft', 'info-requested'], to: 'submitted', side: 'requester' },
  withdraw: { from: ['draft', 'submitted', 'info-requested'], to: 'withdrawn', side: 'requester' },
  accept: { from: ['submitted'], to: 'accepted', side: 'receiver' },
  'request-info': { from: ['submitted'], to: 'info-requested', side: 'receiver' },
  decline: { from: ['submitted'], to: 'declined', side: 'receiver' },
  redirect: { from: ['submitted'], to: 'submitted', side: 'receiver' },
  schedule: { from: ['accepted', 'scheduled'], to: 'scheduled', side: 'receiver' },
  'draft-conclusion': { from: ['accepted', 'scheduled'], to: null, side: 'specialist' },
  sign: { from: ['accepted', 'scheduled'], to: null, side: 'specialist' },
  conclude: { from: ['accepted', 'scheduled'], to: 'concluded', side: 'system' },
  amend: { from: ['concluded'], to: null, side: 'specialist' },
  acknowledge: { from: ['concluded'], to: 'acknowledged', side: 'requester' },
  'follow-up': { from: ['acknowledged'], to: 'closed', side: 'requester' },
} as const satisfies Record<string, { from: readonly ConsultState[]; to: ConsultState | null; side: Side }>;

export type ConsultAction = keyof typeof CONSULT_ACTIONS;

export const STATE_LABELS: Record<ConsultState, { vi: string; en: string }> = {
  draft: { vi: 'Bản nháp', en: 'Draft' },
  submitted: { vi: 'Đã gửi, chờ tiếp nhận', en: 'Submitted' },
  'info-requested': { vi: 'Cần bổ sung thông tin', en: 'More information requested' },
  accepted: { vi: 'Đã tiếp nhận', en: 'Accepted' },
  declined: { vi: 'Từ chối', en: 'Declined' },
  withdrawn: { vi: 'Đã rút yêu cầu', en: 'Withdrawn' },
  scheduled: { vi: 'Đã lên lịch hội chẩn', en: 'Scheduled' },
  concluded: { vi: 'Đã có kết luận', en: 'Concluded' },
  acknowledged: { vi: 'Tuyến dưới đã tiếp nhận kết luận', en: 'Acknowledged' },
  closed: { vi: 'Đã theo dõi kết quả', en: 'Followed up' },
};

export const ACTION_LABELS: Record<ConsultAction, string> = {
  submit: 'gửi yêu cầu',
  withdraw: 'rút yêu cầu',
  accept: 'tiếp nhận',
  'request-info': 'yêu cầu bổ sung thông tin',
  decline: 'từ chối',
  redirect: 'chuyển cơ sở khác',
  schedule: 'lên lịch hội chẩn',
  'draft-conclusion': 'soạn kết luận',
  sign: 'ký kết luận',
  conclude: 'hoàn tất kết luận',
  amend: 'sửa đổi kết luận',
  acknowledge: 'xác nhận kết luận',
  'follow-up': 'ghi nhận kết quả theo dõi',
};

export function actionLabel(code: string): string | undefined {
  const l = (ACTION_LABELS as Record<string, string>)[code] ?? (code === 'draft' ? 'lưu nháp' : undefined);
  return l ? l[0].toUpperCase() + l.slice(1) : undefined;
}

/** Task.status for each state (FHIR workflow), the business state lives in Task.businessStatus. */
export const TASK_STATUS: Record<ConsultState, string> = {
  draft: 'draft',
  submitted: 'requested',
  'info-requested': 'on-hold',
  accepted: 'accepted',
  declined: 'rejected',
  withdrawn: 'cancelled',
  scheduled: 'in-progress',
  concluded: 'completed',
  acknowledged: 'completed',
  closed: 'completed',
};

/** Throws a 422 with a readable message unless `action` is allowed in `state`. */
export function assertTransition(action: ConsultAction, state: ConsultState): ConsultState | null {
  const rule = CONSULT_ACTIONS[action];
  if (!(rule.from as readonly ConsultState[]).includes(state)) {
    throw businessRule(
      `Không thể ${ACTION_LABELS[action]} khi yêu cầu đang ở trạng thái "${STATE_LABELS[state].vi}" (cannot ${action} a case that is ${STATE_LABELS[state].en.toLowerCase()})`,
    );
  }
  return rule.to;
}

/** Target first-response times by urgency (from request to triage decision). */
export const RESPONSE_TARGET_MINUTES = { emergency: 60, urgent: 24 * 60, routine: 72 * 60 } as const;
export type Urgency = keyof typeof RESPONSE_TARGET_MINUTES;
export const PRIORITY_OF: Record<Urgency, 'stat' | 'urgent' | 'routine'> = { emergency: 'stat', urgent: 'urgent', routine: 'routine' };
/** The code system of a consultation's state (Task.businessStatus). */
export const STATE_SYSTEM = 'https://fhir.cauyte.vn/CodeSystem/consult-state';

export const URGENCY_OF: Record<string, Urgency> = { stat: 'emergency', asap: 'emergency', urgent: 'urgent', routine: 'routine' };
