import { Type, type Static } from 'typebox'
import { Applicant, type RecordedEvent } from './case-view.ts'

/**
 * What an applicant is told, and on which event: a suspension (the clock stops, and why), the one
 * extension (Art. 42: the applicant is told why), a refusal (rule 7: always with its written reason),
 * and the result once it is issued and waits at the comprehensive window (or goes out by mail or
 * electronically). Delivery itself is not announced: the applicant is there, or receives the result.
 * A fulfilment's beneficiary is told of the entitlement found for them (rule 24: notified, and
 * asked to confirm when the policy says so), of a rejection, and of the payment.
 */
export const NOTICE_TYPES = ['suspended', 'extended', 'rejected', 'denied', 'result_issued', 'notified', 'paid'] as const
export type NoticeType = (typeof NOTICE_TYPES)[number]

export const Notice = Type.Object({
  /** `<case id>:<event seq>`: one notice per event, and the sender's idempotency key. */
  id: Type.String(),
  caseId: Type.String(),
  seq: Type.Integer({ minimum: 1 }),
  type: Type.Enum(NOTICE_TYPES),
  /** When the event happened. */
  at: Type.String(),
  recipient: Applicant,
  serviceItemCode: Type.Optional(Type.String()),
  /** The event's own facts the applicant needs: a reason, a note, the extension, the certificate. */
  details: Type.Record(Type.String(), Type.Unknown()),
  /** One line of plain text, for senders that just pass text on. */
  text: Type.String(),
})
export type Notice = Static<typeof Notice>

const isNoticeType = (type: string): type is NoticeType => (NOTICE_TYPES as readonly string[]).includes(type)

/** Which events each kind announces to its applicant (or beneficiary). */
const ANNOUNCED: Partial<Record<RecordedEvent['view']['kind'], readonly NoticeType[]>> = {
  application: ['suspended', 'extended', 'rejected', 'denied', 'result_issued'],
  fulfilment: ['notified', 'rejected', 'paid'],
}

/** The notice a case's event owes its applicant (or beneficiary), if any. */
export function noticeOf(caseId: string, { event, view }: RecordedEvent): Notice | undefined {
  if (!view.applicant || !isNoticeType(event.type) || !ANNOUNCED[view.kind]?.includes(event.type)) return undefined
  const data = event.data
  const details = noticeDetails(event.type, data, view)
  return {
    id: `${caseId}:${event.seq}`,
    caseId,
    seq: event.seq,
    type: event.type,
    at: event.at,
    recipient: view.applicant,
    ...(view.serviceItemCode ? { serviceItemCode: view.serviceItemCode } : {}),
    details,
    text: noticeText(caseId, event.type, details),
  }
}

function noticeDetails(type: NoticeType, data: Record<string, unknown>, view: RecordedEvent['view']): Record<string, unknown> {
  const pick = (...names: string[]) => Object.fromEntries(names.filter((n) => data[n] !== undefined).map((n) => [n, data[n]]))
  switch (type) {
    case 'suspended':
      return pick('reason', 'note', 'statutoryPaused')
    case 'extended': {
      const statutory = view.deadlines.find((d) => d.key === 'statutory')
      return { ...pick('workingDays', 'reason'), ...(statutory ? { newDueAt: statutory.dueAt } : {}) }
    }
    case 'rejected':
    case 'denied':
      return pick('reason')
    case 'result_issued':
      return { ...pick('certificateNo'), collectAt: view.receivedBy }
    case 'notified':
      return { policyCode: view.policyCode, amount: view.amount, confirm: view.mode === 'confirm',
        ...(view.mode === 'confirm' ? { confirmBy: view.deadlines.find((d) => d.key === 'confirm')?.dueAt } : {}) }
    case 'paid':
      return { policyCode: view.policyCode, ...pick('amount', 'reference', 'paidAt') }
  }
}

function noticeText(caseId: string, type: NoticeType, details: Record<string, unknown>): string {
  const reason = typeof details.reason === 'string' ? details.reason : ''
  switch (type) {
    case 'suspended':
      return `Application ${caseId} is suspended (${reason})${typeof details.note === 'string' ? `: ${details.note}` : ''}; ${
        // Only Art. 45's procedures stop the statutory clock (rule 12); any suspension stops the promised one.
        details.statutoryPaused === false ? 'the promised time limit stands still meanwhile, the statutory one runs on.' : 'the time limit stands still meanwhile.'}`
    case 'extended':
      return `The time limit of application ${caseId} is extended by ${String(details.workingDays)} working days: ${reason}.`
    case 'rejected':
      return `Application ${caseId} is not accepted: ${reason}.`
    case 'denied':
      return `Application ${caseId} is refused: ${reason}.`
    case 'result_issued':
      return `The result of application ${caseId} is ready${typeof details.certificateNo === 'string' ? ` (certificate ${details.certificateNo})` : ''}.`
    case 'notified':
      return `You are entitled to ${yuan(details.amount)} under policy ${String(details.policyCode)} (case ${caseId})${
        details.confirm === true ? `: confirm at a service window by ${String(details.confirmBy)} to receive it.` : '; it will be paid without an application.'}`
    case 'paid':
      return `${yuan(details.amount)} under policy ${String(details.policyCode)} has been paid (reference ${String(details.reference)}).`
  }
}

/** Fen as yuan, for the text of a notice: `12345` → `123.45 yuan`. */
function yuan(fen: unknown): string {
  return typeof fen === 'number' ? `${Math.floor(fen / 100)}.${String(fen % 100).padStart(2, '0')} yuan` : 'an amount'
}
