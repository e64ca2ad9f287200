import { defaultPayloadConverter, type Payload } from '@temporalio/common'
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import pino from 'pino'
import { afterEach, describe, expect, it } from 'vitest'
import { ConfigError, parseConfig } from '../../src/config.ts'
import { DataKeyError, dataKeyFile, formatDataKey, Keyring, parseDataKeys } from '../../src/infra/data-keys.ts'
import { ENCRYPTED_ENCODING, KEY_ID_METADATA, PayloadEncryption } from '../../src/infra/payload-encryption.ts'
import { configuredDataKeys } from '../../src/system.ts'

const ID_NUMBER = '440106199001011234'
const PHONE = '13800138000'
const applicant = { applicant: { type: 'person', name: '张三', idNumber: ID_NUMBER, phone: PHONE } }
const payloadOf = (value: unknown): Payload => defaultPayloadConverter.toPayload(value)
const valueOf = (payload: Payload): unknown => defaultPayloadConverter.fromPayload(payload)
const keySpec = (id: string) => formatDataKey(Keyring.generate(id).current)
const text = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? new Uint8Array()).toString('utf8')

describe('the payload encryption codec', () => {
  it('seals a payload so neither the identity number nor the phone shows, and opens it as it was', async () => {
    const codec = new PayloadEncryption(new Keyring(parseDataKeys(keySpec('a'))))
    const original = payloadOf(applicant)
    const [sealed] = await codec.encode([original])
    expect(text(sealed!.metadata!['encoding'])).toBe(ENCRYPTED_ENCODING)
    expect(text(sealed!.metadata![KEY_ID_METADATA])).toBe('a')
    // The inner payload's metadata (json/plain) is sealed with it.
    expect(Object.keys(sealed!.metadata!).sort()).toEqual(['encoding', 'encryption-cipher', KEY_ID_METADATA])
    const raw = Buffer.from(sealed!.data!)
    for (const secret of [ID_NUMBER, PHONE]) {
      expect(raw.includes(secret)).toBe(false)
      expect(raw.toString('base64').includes(Buffer.from(secret).toString('base64'))).toBe(false)
    }
    const [opened] = await codec.decode([sealed!])
    expect(valueOf(opened!)).toEqual(applicant)
    expect(text(opened!.metadata!['encoding'])).toBe('json/plain')
  })

  it('seals the same payload differently each time (a fresh IV per payload)', async () => {
    const codec = new PayloadEncryption(Keyring.generate())
    const [one, two] = await codec.encode([payloadOf(applicant), payloadOf(applicant)])
    expect(Buffer.from(one!.data!).equals(Buffer.from(two!.data!))).toBe(false)
  })

  it('rotates: after B becomes current with A kept, it opens what A sealed and seals with B', async () => {
    const a = keySpec('a')
    const b = keySpec('b')
    const [underA] = await new PayloadEncryption(new Keyring(parseDataKeys(a))).encode([payloadOf(applicant)])
    const rotated = new PayloadEncryption(new Keyring(parseDataKeys(`${b},${a}`)))
    expect(valueOf((await rotated.decode([underA!]))[0]!)).toEqual(applicant)
    const [underB] = await rotated.encode([payloadOf(applicant)])
    expect(text(underB!.metadata![KEY_ID_METADATA])).toBe('b')
    // Only B: what B sealed opens, what A sealed is refused by name.
    const onlyB = new PayloadEncryption(new Keyring(parseDataKeys(b)))
    expect(valueOf((await onlyB.decode([underB!]))[0]!)).toEqual(applicant)
    await expect(onlyB.decode([underA!])).rejects.toThrow(/no data key "a" in this keyring \(it holds b\)/)
  })

  it('refuses a changed ciphertext, a swapped key id and a payload without one', async () => {
    const keyring = new Keyring(parseDataKeys(`${keySpec('a')},${keySpec('b')}`))
    const codec = new PayloadEncryption(keyring)
    const [sealed] = await codec.encode([payloadOf(applicant)])
    const tampered = Buffer.from(sealed!.data!)
    tampered[20] = tampered[20]! ^ 1
    await expect(codec.decode([{ ...sealed!, data: tampered }])).rejects.toThrow(DataKeyError)
    await expect(codec.decode([{ ...sealed!, data: tampered }])).rejects.toThrow(/does not authenticate/)
    const swapped = { ...sealed!, metadata: { ...sealed!.metadata, [KEY_ID_METADATA]: Buffer.from('b') } }
    await expect(codec.decode([swapped])).rejects.toThrow(/does not authenticate/)
    const { [KEY_ID_METADATA]: _dropped, ...noKeyId } = sealed!.metadata!
    await expect(codec.decode([{ ...sealed!, metadata: noKeyId }])).rejects.toThrow(/without encryption-key-id/)
    await expect(codec.decode([{ ...sealed!, data: Buffer.alloc(10) }])).rejects.toThrow(/too short/)
  })

  it('passes payloads that were never encrypted through unchanged (histories from before)', async () => {
    const codec = new PayloadEncryption(Keyring.generate())
    const plain = [payloadOf(applicant), payloadOf(undefined), payloadOf(new Uint8Array([1, 2, 3])), {}]
    expect(await codec.decode(plain)).toEqual(plain)
  })

  it('keeps a payload ciphertext from opening as another store\'s field, and the other way round', async () => {
    const keyring = Keyring.generate('k')
    const field = keyring.encryptText(ID_NUMBER, 'applicant id number')
    expect(field).toMatch(/^k\.[A-Za-z0-9_-]+$/)
    expect(keyring.decryptText(field, 'applicant id number')).toBe(ID_NUMBER)
    expect(() => keyring.decryptText(field, 'temporal payload')).toThrow(DataKeyError)
    expect(() => keyring.decryptText('no-dot', 'applicant id number')).toThrow(/not a data-key ciphertext/)
  })

  it('indexes a value blindly, the same under the same key, and finds it again after a rotation', () => {
    const a = keySpec('a')
    const before = new Keyring(parseDataKeys(a))
    const after = new Keyring(parseDataKeys(`${keySpec('b')},${a}`))
    const indexed = before.blindIndex(ID_NUMBER, 'id number')
    expect(indexed).toBe(before.blindIndex(ID_NUMBER, 'id number'))
    expect(indexed).not.toContain(ID_NUMBER)
    expect(indexed).not.toBe(before.blindIndex(PHONE, 'id number'))
    expect(after.blindIndexes(ID_NUMBER, 'id number')).toContain(indexed)
  })
})

describe('configured data keys', () => {
  it('reads BANJIAN_DATA_KEYS, current first, and names every bad entry without echoing a key', () => {
    const a = keySpec('a')
    expect(new Keyring(parseDataKeys(`${keySpec('b')}, ${a}`)).keyIds).toEqual(['b', 'a'])
    const bad = `${a},a:${Buffer.alloc(32).toString('base64')},short:${Buffer.alloc(16).toString('base64')},no-colon,bad id:x`
    let error: unknown
    try {
      parseConfig({ BANJIAN_DATA_KEYS: bad })
    } catch (err) {
      error = err
    }
    expect(error).toBeInstanceOf(ConfigError)
    const message = (error as Error).message
    expect(message).toContain('key id a is listed twice')
    expect(message).toContain('key short must be 32 random bytes')
    expect(message).toContain('entry 4 is not id:base64key')
    expect(message).toContain('entry 5: the key id must be')
    expect(message).not.toContain(a.split(':')[1])
  })

  it('requires keys with an external Temporal cluster', async () => {
    await expect(configuredDataKeys(parseConfig({ TEMPORAL_ADDRESS: 'temporal.example:7233' }), '/nonexistent', pino({ level: 'silent' })))
      .rejects.toThrow(/BANJIAN_DATA_KEYS: required with an external Temporal cluster/)
  })
})

describe('the embedded default\'s key file', () => {
  let dir: string | undefined
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true })
  })

  it('is generated under the data directory (0600) on first start and reused afterwards', async () => {
    dir = await mkdtemp(join(tmpdir(), 'banjian-keys-'))
    const dataDir = join(dir, '.data')
    const warnings: string[] = []
    const log = { warn: (_obj: unknown, message?: string) => void warnings.push(message ?? '') }
    const config = parseConfig({ BANJIAN_DATA_DIR: dataDir })
    const first = await configuredDataKeys(config, dataDir, log)
    expect((await stat(dataKeyFile(dataDir))).mode & 0o777).toBe(0o600)
    expect(warnings).toEqual([expect.stringMatching(/generated the data key/)])
    const [sealed] = await new PayloadEncryption(first).encode([payloadOf(applicant)])

    const second = await configuredDataKeys(config, dataDir, log)
    expect(second.keyIds).toEqual(first.keyIds)
    expect(warnings).toHaveLength(1)
    expect(valueOf((await new PayloadEncryption(second).decode([sealed!]))[0]!)).toEqual(applicant)
    // The file is in BANJIAN_DATA_KEYS's own form: an operator moving to production copies it over.
    expect(parseDataKeys((await readFile(dataKeyFile(dataDir), 'utf8')).trim())).toHaveLength(1)
  })

  it('gives way to BANJIAN_DATA_KEYS when it is set', async () => {
    dir = await mkdtemp(join(tmpdir(), 'banjian-keys-'))
    const keyring = await configuredDataKeys(parseConfig({ BANJIAN_DATA_KEYS: keySpec('prod') }), dir, { warn: () => undefined })
    expect(keyring.keyIds).toEqual(['prod'])
    await expect(stat(dataKeyFile(dir))).rejects.toThrow(/ENOENT/)
  })
})

describe('what the codec costs', () => {
  it('encodes and decodes a typical case payload in well under a Temporal round trip', async () => {
    const codec = new PayloadEncryption(Keyring.generate())
    const payload = payloadOf({ ...applicant, materials: Array.from({ length: 8 }, (_, i) => ({ code: `m${i}`, ref: `doc://m/${i}` })) })
    const rounds = 500
    const started = performance.now()
    for (let i = 0; i < rounds; i++) await codec.decode(await codec.encode([payload]))
    const perRoundTrip = (performance.now() - started) / rounds
    console.log(`payload codec: ${payload.data!.length} bytes, encode+decode ${(perRoundTrip * 1000).toFixed(0)} µs`)
    // Generous on a shared 2-core machine; a Temporal round trip is tens of milliseconds.
    expect(perRoundTrip).toBeLessThan(5)
  })
})
