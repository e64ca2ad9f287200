import { Type } from 'typebox'
import { ledgerOf, listPayments } from '../../db/payments.ts'
import type { Role } from '../../domain/roles.ts'
import type { App } from '../app.ts'
import { allow } from '../auth.ts'
import { CatalogueCode } from '../reviewed-drafts.ts'
import { commonErrorResponses, problem, ProblemDetails } from '../problem.ts'
import { DEFAULT_PAGE_SIZE, Instant, ListQuery, Page } from '../schemas/common.ts'

const Code = CatalogueCode
const Fen = Type.Integer({ minimum: 0, description: 'fen (1/100 yuan)' })

/** Rule 25 in numbers: what a policy may spend, holds for payments under way, and paid out. */
const PolicyLedger = Type.Object({
  budget: Type.Union([Fen, Type.Null()], { description: 'null: no limit' }),
  reserved: Fen,
  paid: Fen,
  payments: Type.Integer({ minimum: 0, description: 'how many payments went out' }),
})

const Payment = Type.Object({
  caseId: Type.String(),
  beneficiaryId: Type.String({ description: 'the identity number or credit code paid; masked for roles that do not need it' }),
  amount: Fen,
  reference: Type.String({ description: 'the payment adapter\'s receipt' }),
  paidAt: Instant,
})

const AFTER_ORDINAL = Type.Tuple([Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER })])

/** Who watches public money. */
const LEDGER_READERS: readonly Role[] = ['admin', 'auditor', 'supervisor']

export async function policyLedgerRoutes(app: App): Promise<void> {
  const { database } = app.deps
  const { db } = database
  const cursors = app.cursors.of('policy-payments', AFTER_ORDINAL)

  /** The policy's ledger; 404 for a policy that does not exist. */
  const ledger = async (code: string) => {
    const found = await ledgerOf(db, code)
    if (!found) throw problem('not_found', `policy ${code} does not exist`)
    return found
  }

  app.get('/policies/:code/ledger', {
    preValidation: allow(LEDGER_READERS),
    schema: {
      tags: ['policies'], operationId: 'getPolicyLedger', summary: 'Read a policy\'s budget, what is reserved and what has been paid',
      params: Type.Object({ code: Code }), response: { 200: PolicyLedger, ...commonErrorResponses, 404: ProblemDetails },
    },
  }, async (request) => ledger(request.params.code))

  app.get('/policies/:code/payments', {
    preValidation: allow(LEDGER_READERS),
    schema: {
      tags: ['policies'], operationId: 'listPolicyPayments', summary: 'List a policy\'s payments in the order they went out, a page at a time',
      params: Type.Object({ code: Code }), querystring: ListQuery,
      response: { 200: Page(Payment), ...commonErrorResponses, 404: ProblemDetails },
    },
  }, async (request) => {
    const { code } = request.params
    const { limit = DEFAULT_PAGE_SIZE, cursor } = request.query
    const after = cursors.open(cursor)?.[0]
    await ledger(code)
    const rows = await listPayments(database, code, after, limit + 1)
    const items = rows.slice(0, limit)
    // As a case's applicant is shown (showing.ts): in clear, and recorded first, only to a role
    // that works with the numbers.
    const beneficiaries = await app.show.numbers(request, items, 'payment.beneficiaryId', (payment) => payment.beneficiaryId)
    return {
      items: items.map(({ ordinal: _, ...payment }, i) => ({ ...payment, beneficiaryId: beneficiaries[i]! })),
      nextCursor: rows.length > limit ? cursors.seal([items[items.length - 1]!.ordinal]) : null,
    }
  })
}
