import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { isSealed, PersonalData } from '../../src/db/personal-data.ts'
import { DataKeyError, Keyring } from '../../src/infra/data-keys.ts'

const ID_NUMBER = '440106199001011234'
const PHONE = '13800138000'
const view = {
  id: 'c1', status: 'accepted', applicant: { type: 'person', name: '张三', idNumber: ID_NUMBER, phone: PHONE },
  complainant: { name: '李四', phone: PHONE }, citizen: { name: '王五', idNumber: ID_NUMBER },
  events: [{ data: { submission: { applicant: { idNumber: ID_NUMBER } } } }], deadlines: [], note: null,
}
const keyA = Keyring.generate('a')
const keyB = Keyring.generate('b')
const both = new Keyring([keyB.current, keyA.current])

describe('sealing personal fields', () => {
  it('seals every identity and phone number at any depth, and opens them as they were', () => {
    const personal = new PersonalData(keyA)
    const sealed = personal.seal(view)
    const text = JSON.stringify(sealed)
    expect(text).not.toContain(ID_NUMBER)
    expect(text).not.toContain(PHONE)
    expect(sealed.applicant.idNumber).toMatch(/^enc:a\./)
    expect(sealed.events[0]!.data.submission.applicant.idNumber).toMatch(/^enc:a\./)
    expect(sealed.applicant.name).toBe('张三')
    expect(sealed.status).toBe('accepted')
    expect(personal.open(sealed)).toEqual(view)
    expect(view.applicant.idNumber).toBe(ID_NUMBER)
  })

  it('leaves sealed fields alone when sealing again, and plaintext (rows from before) alone when opening', () => {
    const personal = new PersonalData(keyA)
    const sealed = personal.seal(view)
    expect(personal.seal(sealed)).toEqual(sealed)
    expect(personal.open(view)).toEqual(view)
  })

  it('re-seals under the new current key, and says which values rotation still has to touch', () => {
    const old = new PersonalData(keyA)
    const rotated = new PersonalData(both)
    const sealed = old.seal(view)
    expect(rotated.isCurrent(sealed)).toBe(false)
    expect(rotated.isCurrent(view)).toBe(false)
    const resealed = rotated.reseal(sealed)
    expect(rotated.isCurrent(resealed)).toBe(true)
    expect(resealed.applicant.phone).toMatch(/^enc:b\./)
    expect(rotated.open(resealed)).toEqual(view)
    expect(() => old.open(resealed)).toThrow(DataKeyError)
    expect(rotated.isCurrent({ id: 'no personal data' })).toBe(true)
  })

  it('finds a subject indexed under an old key among the indexes of every key', () => {
    const before = new PersonalData(keyA).subjectIndex(ID_NUMBER)
    const after = new PersonalData(both)
    expect(before).not.toContain(ID_NUMBER)
    expect(after.subjectIndexes(ID_NUMBER)).toContain(before)
    expect(after.subjectIndex(ID_NUMBER)).toMatch(/^b\./)
  })

  it('round-trips any JSON value', () => {
    const personal = new PersonalData(keyA)
    fc.assert(fc.property(fc.jsonValue(), fc.string(), (value, number) => {
      const document = { value, applicant: { idNumber: number, phone: number } }
      const sealed = personal.seal(document)
      expect(isSealed(sealed.applicant.idNumber)).toBe(true)
      expect(personal.open(sealed)).toEqual(document)
    }), { numRuns: 200 })
  })

  it('keeps a key named __proto__ as the value\'s own key (found by the property above)', () => {
    const personal = new PersonalData(keyA)
    const document = { value: JSON.parse('{"__proto__": 0, "x": {"__proto__": {"idNumber": "1"}}}') as unknown, applicant: { idNumber: '2' } }
    const sealed = personal.seal(document)
    expect(Object.keys(sealed.value as object)).toEqual(['__proto__', 'x'])
    expect(personal.open(sealed)).toEqual(document)
  })
})

describe('sealing input that looks sealed', () => {
  it('seals a number typed to look like a ciphertext (or sealed under a key it does not hold), and opens it as typed', () => {
    const personal = new PersonalData(keyA)
    const lookalike = `enc:a.${'A'.repeat(40)}`
    const foreign = new PersonalData(keyB).seal({ idNumber: ID_NUMBER }).idNumber
    const sealed = personal.seal({ applicant: { idNumber: lookalike }, citizen: { idNumber: foreign } })
    expect(sealed.applicant.idNumber).not.toBe(lookalike)
    expect(sealed.citizen.idNumber).not.toBe(foreign)
    expect(personal.open(sealed)).toEqual({ applicant: { idNumber: lookalike }, citizen: { idNumber: foreign } })
  })
})

describe('a database handle opened without data keys', () => {
  it('refuses to seal or open a sealed field, rather than use a key nobody keeps', () => {
    const none = new PersonalData(null)
    expect(() => none.seal({ applicant: { idNumber: ID_NUMBER } })).toThrow(/without data keys/)
    expect(() => none.open(new PersonalData(keyA).seal({ phone: PHONE }))).toThrow(/without data keys/)
    expect(none.open({ status: 'accepted' })).toEqual({ status: 'accepted' })
  })
})
