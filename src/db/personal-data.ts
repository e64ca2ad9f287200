import { DataKeyError, type Keyring } from '../infra/data-keys.ts'

/**
 * The fields that hold a person's identity or phone number, wherever they sit in a view, an
 * event's data or a notice: applicants, complainants, citizens, notice recipients. Matched by
 * name at any depth, so a new place that carries a person (a submission inside an event, a
 * kind's own party) is sealed without being listed here.
 */
const PERSONAL_FIELDS = new Set(['idNumber', 'phone'])

/**
 * Marks a sealed field, so old rows written in clear still read and sealing twice changes nothing.
 * A body is at least an IV and a tag (28 bytes, 38 base64url characters): no phone number is that long.
 */
const SEALED = /^enc:[A-Za-z0-9_-]{1,64}\.[A-Za-z0-9_-]{38,}$/
const PREFIX = 'enc:'
const FIELD_PURPOSE = 'pg-field'
const SUBJECT_PURPOSE = 'subject'

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
   * A copy of `value` with every personal field sealed; fields already sealed under this keyring are
   * kept as they are. Anything else is sealed, a number typed to look like a ciphertext included,
   * so no input can leave a field in clear or one that does not open.
   */
  seal<T>(value: T): T {
    return mapPersonal(value, (text) => (this.opens(text) ? text : `${PREFIX}${this.keyring.encryptText(text, FIELD_PURPOSE)}`))
  }

  /** A copy of `value` with every sealed field opened; fields still in clear (rows from before) are kept. Throws DataKeyError. */
  open<T>(value: T): T {
    return mapPersonal(value, (text) => (isSealed(text) ? this.keyring.decryptText(text.slice(PREFIX.length), FIELD_PURPOSE) : text))
  }

  /** Opened and sealed again: under the current key, whatever key (or none) it had. */
  reseal<T>(value: T): T {
    return this.seal(this.open(value))
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
  isCurrent(value: unknown): boolean {
    let current = true
    const prefix = `${PREFIX}${this.keyring.current.id}.`
    mapPersonal(value, (text) => {
      if (!text.startsWith(prefix) || !isSealed(text)) current = false
      return text
    })
    return current
  }

  /** The stored form of an identity number rows are looked up by (shared_materials.subject). */
  subjectIndex(idNumber: string): string {
    return this.keyring.blindIndex(idNumber, SUBJECT_PURPOSE)
  }

  /** Every form `subjectIndex` may have stored it in, one per key: rows indexed before a rotation are found too. */
  subjectIndexes(idNumber: string): string[] {
    return this.keyring.blindIndexes(idNumber, SUBJECT_PURPOSE)
  }
}

export function isSealed(text: string): boolean {
  return SEALED.test(text)
}

/** A copy of a JSON value with `change` applied to every string in a personal field. */
function mapPersonal<T>(value: T, change: (text: string) => string): T {
  if (Array.isArray(value)) return value.map((item: unknown) => mapPersonal(item, change)) as T
  if (value === null || typeof value !== 'object') return value
  // Object.fromEntries defines each key as an own property: an assignment to a key `__proto__`
  // (JSON may hold one) would set the copy's prototype instead and drop the key.
  return Object.fromEntries(Object.entries(value).map(([key, field]) =>
    [key, PERSONAL_FIELDS.has(key) && typeof field === 'string' ? change(field) : mapPersonal(field, change)])) as T
}
