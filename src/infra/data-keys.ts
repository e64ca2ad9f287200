import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

/**
 * The keys that protect applicants' identity and phone numbers wherever banjian stores them
 * (Temporal's payloads now, Postgres fields later). Every ciphertext names the key it was sealed
 * with, so keys rotate by configuration: the first key seals, every key listed still opens.
 */
export interface DataKey {
  /** Carried with each ciphertext: letters, digits, `_` and `-` (so it can sit in a string form). */
  readonly id: string
  /** 32 bytes: AES-256. */
  readonly secret: Buffer
}

const KEY_BYTES = 32
const IV_BYTES = 12
const TAG_BYTES = 16
const KEY_ID = /^[A-Za-z0-9_-]{1,64}$/
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{4})$/
const BASE64URL = /^[A-Za-z0-9_-]+$/

/** A ciphertext that cannot be opened: unknown key, wrong key, or changed since it was sealed. */
export class DataKeyError extends Error {
  constructor(message: string) {
    super(message)
    this.name = 'DataKeyError'
  }
}

/**
 * AES-256-GCM under named keys. `purpose` is authenticated with each ciphertext (with the key id),
 * so a ciphertext sealed for one use (a Temporal payload) is refused in another (a table column),
 * and a key id swapped in beside a ciphertext is refused too.
 */
export class Keyring {
  readonly current: DataKey
  private readonly byId: ReadonlyMap<string, DataKey>
  /** Index keys derived (HKDF) per key and purpose, once: a campaign page or a projection indexes many values. */
  private readonly indexKeys = new Map<string, Buffer>()

  /** The first key seals; all of them open. */
  constructor(keys: readonly DataKey[]) {
    const [current] = keys
    if (!current) throw new DataKeyError('a keyring needs at least one key')
    const byId = new Map<string, DataKey>()
    for (const key of keys) {
      if (!KEY_ID.test(key.id)) throw new DataKeyError(`data key id ${JSON.stringify(key.id)} must be 1–64 letters, digits, _ or -`)
      if (key.secret.length !== KEY_BYTES) throw new DataKeyError(`data key ${key.id} must be ${KEY_BYTES} bytes, not ${key.secret.length}`)
      if (byId.has(key.id)) throw new DataKeyError(`data key id ${key.id} is listed twice`)
      byId.set(key.id, key)
    }
    this.current = current
    this.byId = byId
  }

  /** A keyring of one fresh random key (a process whose stores die with it). */
  static generate(id = `k${randomBytes(4).toString('hex')}`): Keyring {
    return new Keyring([{ id, secret: randomBytes(KEY_BYTES) }])
  }

  get keyIds(): string[] {
    return [...this.byId.keys()]
  }

  /** Seals under the current key: a random 96-bit IV, then the ciphertext, then the 128-bit tag. */
  seal(plaintext: Uint8Array, purpose: string): { keyId: string; sealed: Buffer } {
    const { id, secret } = this.current
    const iv = randomBytes(IV_BYTES)
    const cipher = createCipheriv('aes-256-gcm', secret, iv)
    cipher.setAAD(associatedData(id, purpose))
    const body = Buffer.concat([cipher.update(plaintext), cipher.final()])
    return { keyId: id, sealed: Buffer.concat([iv, body, cipher.getAuthTag()]) }
  }

  /** Opens what `seal` made under `keyId`, for the same purpose; DataKeyError otherwise. */
  open(keyId: string, sealed: Uint8Array, purpose: string): Buffer {
    const key = this.byId.get(keyId)
    if (!key) {
      throw new DataKeyError(`no data key "${keyId}" in this keyring (it holds ${this.keyIds.join(', ')}): `
        + 'keep retired keys listed in BANJIAN_DATA_KEYS while anything sealed with them is kept')
    }
    if (sealed.length < IV_BYTES + TAG_BYTES) throw new DataKeyError(`ciphertext under key ${keyId} is too short to be one`)
    const iv = sealed.subarray(0, IV_BYTES)
    const tag = sealed.subarray(sealed.length - TAG_BYTES)
    const decipher = createDecipheriv('aes-256-gcm', key.secret, iv)
    decipher.setAAD(associatedData(keyId, purpose))
    decipher.setAuthTag(tag)
    try {
      return Buffer.concat([decipher.update(sealed.subarray(IV_BYTES, sealed.length - TAG_BYTES)), decipher.final()])
    } catch {
      throw new DataKeyError(`ciphertext under key ${keyId} does not authenticate: it was changed, or sealed for another use`)
    }
  }

  /** A text field's ciphertext as one string, `<key id>.<base64url>`, for a column. */
  encryptText(plaintext: string, purpose: string): string {
    const { keyId, sealed } = this.seal(Buffer.from(plaintext, 'utf8'), purpose)
    return `${keyId}.${sealed.toString('base64url')}`
  }

  decryptText(ciphertext: string, purpose: string): string {
    const dot = ciphertext.indexOf('.')
    const body = ciphertext.slice(dot + 1)
    if (dot < 1 || !BASE64URL.test(body)) throw new DataKeyError('not a data-key ciphertext (<key id>.<base64url>)')
    return this.open(ciphertext.slice(0, dot), Buffer.from(body, 'base64url'), purpose).toString('utf8')
  }

  /**
   * An equality index of a value (find a case by identity number without decrypting every row):
   * HMAC-SHA256 under a key derived from the current data key, prefixed with its id. Lookups ask
   * `blindIndexes`, one per key, so rows indexed before a rotation are still found.
   */
  blindIndex(value: string, purpose: string): string {
    return this.indexUnder(this.current, value, purpose)
  }

  blindIndexes(value: string, purpose: string): string[] {
    return [...this.byId.values()].map((key) => this.indexUnder(key, value, purpose))
  }

  private indexUnder(key: DataKey, value: string, purpose: string): string {
    const name = `${key.id}\n${purpose}`
    let indexKey = this.indexKeys.get(name)
    if (!indexKey) {
      indexKey = Buffer.from(hkdfSync('sha256', key.secret, Buffer.alloc(0), `banjian blind index for ${purpose}`, KEY_BYTES))
      this.indexKeys.set(name, indexKey)
    }
    return `${key.id}.${createHmac('sha256', indexKey).update(value, 'utf8').digest('base64url')}`
  }
}

function associatedData(keyId: string, purpose: string): Buffer {
  return Buffer.from(`banjian data key ${keyId} for ${purpose}`, 'utf8')
}

/**
 * Keys as configured (BANJIAN_DATA_KEYS): `id:base64key` separated by commas, the current key
 * first. Throws one message naming every problem, never echoing a key.
 */
export function parseDataKeys(spec: string): DataKey[] {
  const problems: string[] = []
  const keys: DataKey[] = []
  const entries = spec.split(',').map((entry) => entry.trim())
  entries.forEach((entry, index) => {
    const colon = entry.indexOf(':')
    const id = colon < 0 ? '' : entry.slice(0, colon)
    const encoded = colon < 0 ? '' : entry.slice(colon + 1)
    if (colon < 0) problems.push(`entry ${index + 1} is not id:base64key`)
    else if (!KEY_ID.test(id)) problems.push(`entry ${index + 1}: the key id must be 1–64 letters, digits, _ or -`)
    else if (!BASE64.test(encoded) || Buffer.from(encoded, 'base64').length !== KEY_BYTES) {
      problems.push(`key ${id} must be ${KEY_BYTES} random bytes in base64 (openssl rand -base64 ${KEY_BYTES})`)
    } else if (keys.some((k) => k.id === id)) problems.push(`key id ${id} is listed twice`)
    else keys.push({ id, secret: Buffer.from(encoded, 'base64') })
  })
  if (problems.length > 0) throw new DataKeyError(problems.join('; '))
  return keys
}

/** One key in the configuration's form, for a key file an operator can copy into BANJIAN_DATA_KEYS. */
export function formatDataKey(key: DataKey): string {
  return `${key.id}:${key.secret.toString('base64')}`
}

/** Where the embedded default keeps its data key. */
export const dataKeyFile = (dataDir: string) => join(dataDir, 'data-keys')

/**
 * The embedded default's keys: `<data dir>/data-keys`, created (mode 0600) with one random key on
 * first start and read as it is afterwards. Its Temporal lives in the same directory, so the key
 * goes wherever what it sealed goes. Two processes racing to create it agree on the first one's.
 */
export async function dataKeysInDir(dataDir: string): Promise<{ keys: DataKey[]; created: boolean; path: string }> {
  const path = dataKeyFile(dataDir)
  const read = async () => parseDataKeys((await readFile(path, 'utf8')).trim())
  try {
    return { keys: await read(), created: false, path }
  } catch (err) {
    if (!isNoSuchFile(err)) throw keyFileError(path, err)
  }
  await mkdir(dataDir, { recursive: true })
  const key: DataKey = { id: `local-${randomBytes(4).toString('hex')}`, secret: randomBytes(KEY_BYTES) }
  try {
    await writeFile(path, `${formatDataKey(key)}\n`, { flag: 'wx', mode: 0o600 })
    return { keys: [key], created: true, path }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    return { keys: await read(), created: false, path }
  }
}

function isNoSuchFile(err: unknown): boolean {
  return (err as NodeJS.ErrnoException).code === 'ENOENT'
}

function keyFileError(path: string, err: unknown): Error {
  return new DataKeyError(`the data key file ${path} cannot be used: ${err instanceof Error ? err.message : String(err)}`)
}
