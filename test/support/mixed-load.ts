import { setTimeout as sleep } from 'node:timers/promises'
import { ITEM_CODE, applicationBody } from './fixtures.ts'
import { pool } from './processes.ts'

// The mixed load the fault tests (test/e2e/faults.alone.test.ts) run while something breaks: a
// window system submitting applications and a department taking them to the end, an escalation
// and a 12345 work order taken through their steps, and a small campaign paid out. The client
// behaves as the contract asks of one: a request not answered (the connection refused or cut, 503)
// is sent again, a creation with the same Idempotency-Key, until it is answered; and it keeps what
// it was told, so that the test can hold the system to it afterwards.

/** What a client sends with; `apiUrl` is asked on every attempt (the API may move). */
export interface LoadTarget {
  apiUrl: () => string
  keys: { admin: string; window: string; department: string; policyDepartment: string }
  /** Gives up on a request never answered after this long (the fault outlasted the test). */
  retryForMs?: number
}

export interface LoadPlan {
  /** Distinguishes this run's cases, keys and names from every other run's. */
  tag: string
  applications: number
  concurrency: number
  /** Beneficiaries of the campaign, all eligible, each paid `amount` fen out of a budget of exactly that much. */
  beneficiaries: number
  amount: number
  /** Called once, after `at` applications have been submitted: the fault goes in here. */
  inject: { at: number; fault: () => Promise<void> }
}

/** What the clients were told, and how the asking went. */
export interface LoadRecord {
  /** Requests answered, retries not counted. */
  acknowledged: number
  /** Attempts that got no answer (refused, cut, 503) and were sent again. */
  retried: number
  /** Answers that were neither what the contract promises nor a 503: 5xx, or a 4xx the load did not ask for. */
  unexpected: string[]
  /** Each case created, with the status the last answer about it showed. */
  told: Map<string, { kind: string; status: string }>
  /** The campaign: its id and the policy it pays under. */
  campaign: { id: string; policyCode: string } | undefined
}

interface Answer { status: number; body: any }

/** After submission, each application action: who takes it, its parameters, and the status it leads to. */
const APPLICATION_STEPS: Array<[string, 'department' | 'window', Record<string, unknown>, string]> = [
  ['accept', 'department', {}, 'accepted'],
  ['approve', 'department', { note: 'conditions met' }, 'approved'],
  ['issue_result', 'department', { certificateNo: 'FAULT' }, 'result_issued'],
  ['deliver', 'window', { method: 'window' }, 'completed'],
]

/** An escalation's steps after filing; each changes the status, so a step sent twice is refused, never done twice. */
const ESCALATION_STEPS: Array<[string, 'department' | 'window', Record<string, unknown>, string]> = [
  ['accept', 'window', {}, 'accepted'],
  ['assign', 'window', { toOrganizationId: 'gz-amr' }, 'assigned'],
  ['respond', 'department', { resolution: 'handled', resolved: true }, 'responded'],
  ['feedback', 'window', { message: 'handled' }, 'feedback_given'],
  ['close', 'window', { satisfied: true }, 'closed'],
]

/** A work order's steps after filing (no `sign`: it keeps the status, so a resent one could not be told from a second). */
const COMPLAINT_STEPS: Array<[string, 'department' | 'window', Record<string, unknown>, string]> = [
  ['dispatch', 'window', { toOrganizationId: 'gz-amr' }, 'dispatched'],
  ['respond', 'department', { answer: 'handled' }, 'responded'],
  ['reply', 'window', { message: 'told the citizen' }, 'replied'],
  ['callback', 'window', { satisfied: true }, 'closed'],
]

/** Publishes the campaign's policy (reviewed by `reviewer`), before the load: no fault touches it. */
export async function publishLoadPolicy(target: LoadTarget, reviewer: string, plan: Pick<LoadPlan, 'tag' | 'beneficiaries' | 'amount'>): Promise<string> {
  const code = `FLT-${plan.tag}`.toUpperCase()
  const client = new LoadClient(target)
  const draft = {
    name: `故障演练 ${plan.tag}`, departmentId: 'gz-hr', mode: 'no_application', autoVerify: true,
    eligibility: { '>=': [{ var: 'age' }, 60] }, amount: plan.amount, budget: plan.amount * plan.beneficiaries, payWithin: { workingDays: 10 },
  }
  await client.expect([200], target.keys.admin, 'PUT', `/v1/policies/${code}`, draft)
  await client.expect([200], reviewer, 'POST', `/v1/policies/${code}/review`, { approved: true, note: 'fault drill' })
  await client.expect([200], target.keys.admin, 'POST', `/v1/policies/${code}/publish`)
  return code
}

/** Runs the plan against the target; resolves once every request has been answered. */
export async function runMixedLoad(target: LoadTarget, plan: LoadPlan, policyCode: string): Promise<LoadRecord> {
  const client = new LoadClient(target)
  const { keys } = target
  const told: LoadRecord['told'] = new Map()
  let campaign: LoadRecord['campaign']

  /** The steps of one case, each sent until answered: a step refused after an unanswered attempt was done by that attempt. */
  const walk = async (id: string, kind: string, steps: typeof APPLICATION_STEPS) => {
    for (const [action, role, params, status] of steps) {
      const answer = await client.send(keys[role], 'POST', `/v1/cases/${id}/actions`, { action, ...params })
      if (answer.status === 200) {
        told.set(id, { kind, status: answer.body.status })
        continue
      }
      if (answer.status === 409 && client.wasResent(answer)) {
        told.set(id, { kind, status: await client.statusWhenDone(keys.admin, id, status) })
        continue
      }
      client.unexpected.push(`${action} on ${id}: ${answer.status} ${JSON.stringify(answer.body)}`)
      return
    }
  }

  const created = async (answer: Answer, what: string, kind: string): Promise<string | undefined> => {
    if (answer.status !== 201) {
      client.unexpected.push(`${what}: ${answer.status} ${JSON.stringify(answer.body)}`)
      return undefined
    }
    told.set(answer.body.id, { kind, status: answer.body.status })
    return answer.body.id as string
  }

  const others = (async () => {
    const beneficiaries = Array.from({ length: plan.beneficiaries }, (_, n) =>
      JSON.stringify({ id: `4401061950${plan.tag.slice(0, 4)}${String(n).padStart(4, '0')}`, type: 'person', name: `${plan.tag}-受益人${n}`, attributes: { age: 70 } }))
    const upload = await client.send(keys.policyDepartment, 'POST', `/v1/policies/${policyCode}/campaigns`, `${beneficiaries.join('\n')}\n`,
      { 'content-type': 'application/x-ndjson', 'idempotency-key': `${plan.tag}-campaign` })
    if (upload.status === 202) campaign = { id: upload.body.id, policyCode }
    else client.unexpected.push(`campaign: ${upload.status} ${JSON.stringify(upload.body)}`)

    const escalation = await created(await client.send(keys.window, 'POST', '/v1/escalations', {
      category: 'overdue', complainant: { name: `${plan.tag}-投诉人` }, description: `fault drill ${plan.tag}`,
    }, { 'idempotency-key': `${plan.tag}-escalation` }), 'escalation', 'escalation')
    if (escalation) await walk(escalation, 'escalation', ESCALATION_STEPS)

    const complaint = await created(await client.send(keys.window, 'POST', '/v1/complaints', {
      type: 'complaint', channel: 'window', content: `fault drill ${plan.tag}`, citizen: { name: `${plan.tag}-市民` },
    }, { 'idempotency-key': `${plan.tag}-complaint` }), 'complaint', 'complaint')
    if (complaint) await walk(complaint, 'complaint', COMPLAINT_STEPS)
  })()

  let submitted = 0
  let injected: Promise<void> | undefined
  await pool([...Array(plan.applications).keys()], plan.concurrency, async (i) => {
    const body = applicationBody({
      serviceItemCode: ITEM_CODE,
      applicant: { type: 'person', name: `${plan.tag}-申请人${i}`, idNumber: `4401061990${plan.tag.slice(0, 4)}${String(i).padStart(4, '0')}` },
    })
    const id = await created(await client.send(keys.window, 'POST', '/v1/applications', body, { 'idempotency-key': `${plan.tag}-${i}` }),
      `application ${i}`, 'application')
    if (++submitted === plan.inject.at) injected = plan.inject.fault()
    if (id) await walk(id, 'application', APPLICATION_STEPS)
  })
  await Promise.all([others, injected])
  return { acknowledged: client.acknowledged, retried: client.retried, unexpected: client.unexpected, told, campaign }
}

/** Sends until answered, counting what happened; remembers which answers came after a resend. */
class LoadClient {
  acknowledged = 0
  retried = 0
  readonly unexpected: string[] = []
  readonly #resent = new WeakSet<Answer>()

  constructor(private readonly target: LoadTarget) {}

  wasResent(answer: Answer): boolean {
    return this.#resent.has(answer)
  }

  async send(key: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Answer> {
    const giveUp = Date.now() + (this.target.retryForMs ?? 180_000)
    let resent = false
    for (;;) {
      let answer: Answer | undefined
      let last: string
      try {
        answer = await request(this.target.apiUrl(), key, method, path, body, headers)
        last = `${answer.status} ${JSON.stringify(answer.body)}`
      } catch (err) {
        // refused or cut: unanswered
        last = err instanceof Error ? `${err.message} ${err.cause instanceof Error ? err.cause.message : ''}` : String(err)
      }
      if (answer && answer.status !== 503) {
        this.acknowledged++
        if (resent) this.#resent.add(answer)
        return answer
      }
      if (Date.now() > giveUp) throw new Error(`${method} ${path} unanswered for ${(this.target.retryForMs ?? 180_000) / 1000} s; last: ${last}`)
      this.retried++
      resent = true
      await sleep(250)
    }
  }

  /** The answer, or the run fails: for the set-up around the load. */
  async expect(statuses: number[], key: string, method: string, path: string, body?: unknown): Promise<any> {
    const answer = await this.send(key, method, path, body)
    if (!statuses.includes(answer.status)) throw new Error(`${method} ${path}: ${answer.status} ${JSON.stringify(answer.body)}`)
    return answer.body
  }

  /**
   * A step refused after an attempt that got no answer: that attempt was done, so the case shows
   * `expected` once the read side has it (a few moments at most). Its status as shown, either way.
   */
  async statusWhenDone(key: string, id: string, expected: string): Promise<string> {
    let status = ''
    for (let tries = 0; tries < 40 && status !== expected; tries++) {
      if (tries > 0) await sleep(250)
      status = (await this.expect([200], key, 'GET', `/v1/cases/${id}`)).status
    }
    return status
  }
}

async function request(baseUrl: string, key: string, method: string, path: string, body: unknown, headers: Record<string, string>): Promise<Answer> {
  const response = await fetch(`${baseUrl}${path}`, {
    method, signal: AbortSignal.timeout(60_000),
    headers: { authorization: `Bearer ${key}`, ...(body === undefined || typeof body === 'string' ? {} : { 'content-type': 'application/json' }), ...headers },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  })
  const text = await response.text()
  return { status: response.status, body: text ? JSON.parse(text) : undefined }
}
