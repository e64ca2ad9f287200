import { CASE_PEOPLE } from '../domain/case-view.ts'
import { DataKeyError, type Keyring } from '../infra/data-keys.ts'

/**
 * The fields that hold a person's identity or phone number, wherever they sit in a view, an
 * event's data or a notice: applicants, complainants, citizens, notice recipients; and the bank
 * account a beneficiary is paid into (a fulfilment's `confirm`). Matched by name at any depth, so
 * a new place that carries a person (a submission inside an event, a kind's own party) is sealed
 * without being listed here.
 */
const PERSONAL_FIELDS: ReadonlySet<string> = new Set(['idNumber', 'phone', 'account'])

/**
 * The fields of a policy's beneficiary (a campaign's line): the personal fields, and its
 * identity number (or an enterprise's credit code) as `id`.
 */
export const BENEFICIARY_FIELDS: ReadonlySet<string> = new Set([...PERSONAL_FIELDS, 'id'])

/**
 * Marks a sealed field, so old rows written in clear still read and sealing twice changes nothing.
 * A body is at least an IV and a tag (28 bytes, 38 base64url characters): no phone number is that long.
 */
const SEALED = /^enc:[A-Za-z0-9_-]{1,64}\.[A-Za-z0-9_-]{38,}$/
const PREFIX = 'enc:'
const FIELD_PURPOSE = 'pg-field'
const SUBJECT_PURPOSE = 'subject'
const CLAIM_PURPOSE = 'fulfilment claim'
const PERSON_PURPOSE = 'person'

/**
 * Identity and phone numbers as Postgres stores them (DESIGN "Access"): each sealed in its JSON
 * document as `enc:<key id>.<base64url>` under the current data key, so the rest of the document
 * (statuses, deadlines, what lists filter on) stays queryable; and identity numbers that rows are
 * looked up by (shared materials' subject) as a blind index, one per key for lookups across a
 * rotation. The hash chain is over the plaintext event, so rotation re-seals without breaking it.
 */
export class PersonalData {
  readonly #keyring: Keyring | null

  /**
   * `null` for a handle whose work touches no personal data (migrations, API keys, the calendar),
   * so it needs no keys configured: any use throws, rather than seal under a key nobody keeps.
   */
  constructor(keyring: Keyring | null) {
    this.#keyring = keyring
  }

  get keyring(): Keyring {
    if (!this.#keyring) throw new Error('this database handle was opened without data keys: it cannot seal or open personal data')
    return this.#keyring
  }

  /**
   * A copy of `value` with every personal field (`fields`, matched at any depth) sealed; fields
   * already sealed under this keyring are kept as they are. Anything else is sealed, a number typed
   * to look like a ciphertext included, so no input can leave a field in clear or one that does not open.
   */
  seal<T>(value: T, fields: ReadonlySet<string> = PERSONAL_FIELDS): T {
    return mapFields(value, fields, (text) => this.sealText(text))
  }

  /** A copy of `value` with every sealed field opened; fields still in clear (rows from before) are kept. Throws DataKeyError. */
  open<T>(value: T, fields: ReadonlySet<string> = PERSONAL_FIELDS): T {
    return mapFields(value, fields, (text) => this.openText(text))
  }

  /** Opened and sealed again: under the current key, whatever key (or none) it had. */
  reseal<T>(value: T, fields: ReadonlySet<string> = PERSONAL_FIELDS): T {
    return this.seal(this.open(value, fields), fields)
  }

  /** One value sealed (a column that holds nothing else), as `seal` seals a field. */
  sealText(text: string): string {
    return this.opens(text) ? text : `${PREFIX}${this.keyring.encryptText(text, FIELD_PURPOSE)}`
  }

  /** One sealed value opened; a value still in clear is kept. Throws DataKeyError. */
  openText(text: string): string {
    return isSealed(text) ? this.keyring.decryptText(text.slice(PREFIX.length), FIELD_PURPOSE) : text
  }

  private opens(text: string): boolean {
    if (!isSealed(text)) return false
    try {
      this.keyring.decryptText(text.slice(PREFIX.length), FIELD_PURPOSE)
      return true
    } catch (err) {
      if (err instanceof DataKeyError) return false
      throw err
    }
  }

  /** Whether every personal field in `value` is sealed under the current key (nothing for rotation to do). */
  isCurrent(value: unknown, fields: ReadonlySet<string> = PERSONAL_FIELDS): boolean {
    let current = true
    mapFields(value, fields, (text) => {
      if (!this.isCurrentText(text)) current = false
      return text
    })
    return current
  }

  /** Whether one value is sealed under the current key. */
  isCurrentText(text: string): boolean {
    return text.startsWith(`${PREFIX}${this.keyring.current.id}.`) && isSealed(text)
  }

  /** The stored form of an identity number rows are looked up by (shared_materials.subject). */
  subjectIndex(idNumber: string): string {
    return this.keyring.blindIndex(idNumber, SUBJECT_PURPOSE)
  }

  /** Every form `subjectIndex` may have stored it in, one per key: rows indexed before a rotation are found too. */
  subjectIndexes(idNumber: string): string[] {
    return this.keyring.blindIndexes(idNumber, SUBJECT_PURPOSE)
  }

  /**
   * The stored form of the identity number of the person a case is for (cases.person_index), from
   * the case's view (in clear); null when it names no one by identity number.
   */
  personIndex(view: unknown): string | null {
    const idNumber = personIdNumber(view)
    return idNumber === undefined ? null : this.keyring.blindIndex(idNumber, PERSON_PURPOSE)
  }

  /** Every form `personIndex` may have stored an identity number in, one per key: one person's cases across a rotation. */
  personIndexes(idNumber: string): string[] {
    return this.keyring.blindIndexes(idNumber, PERSON_PURPOSE)
  }

  /**
   * The stored form of "this beneficiary under this policy" (fulfilment_claims.beneficiary_id): a
   * blind index of the pair, so the claims hold no identity number and link no one across policies.
   */
  claimIndex(policyCode: string, beneficiaryId: string): string {
    return this.keyring.blindIndex(`${policyCode}\n${beneficiaryId}`, CLAIM_PURPOSE)
  }

  /** Every form `claimIndex` may have stored it in, one per key. */
  claimIndexes(policyCode: string, beneficiaryId: string): string[] {
    return this.keyring.blindIndexes(`${policyCode}\n${beneficiaryId}`, CLAIM_PURPOSE)
  }
}

/** The identity number of the first person a view names (CASE_PEOPLE), as the view holds it. */
function personIdNumber(view: unknown): string | undefined {
  if (view === null || typeof view !== 'object') return undefined
  for (const who of CASE_PEOPLE) {
    const idNumber = (view as Record<string, { idNumber?: unknown } | undefined>)[who]?.idNumber
    if (typeof idNumber === 'string' && idNumber !== '') return idNumber
  }
  return undefined
}

export function isSealed(text: string): boolean {
  return SEALED.test(text)
}

/** A copy of a JSON value with `change` applied to every string in one of `fields`. */
function mapFields<T>(value: T, fields: ReadonlySet<string>, change: (text: string) => string): T {
  if (Array.isArray(value)) return value.map((item: unknown) => mapFields(item, fields, change)) as T
  if (value === null || typeof value !== 'object') return value
  // Object.fromEntries defines each key as an own property: an assignment to a key `__proto__`
  // (JSON may hold one) would set the copy's prototype instead and drop the key.
  return Object.fromEntries(Object.entries(value).map(([key, field]) =>
    [key, fields.has(key) && typeof field === 'string' ? change(field) : mapFields(field, fields, change)])) as T
}
