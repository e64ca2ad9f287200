// Who may act (roles, organisation kinds, the actor recorded on each event) and how the domain says
// no: one family of refusals, each with the HTTP status the API answers it with.
import { Value } from 'typebox/value'
import { describe, expect, it } from 'vitest'
import { isRefusalCode, Refusal, REFUSALS } from '../../src/domain/refusal.ts'
import { Actor, ORGANIZATION_KINDS, OrganizationKind, Role, ROLES, seesPersonalData } from '../../src/domain/roles.ts'

describe('roles', () => {
  it('are the six of the contract', () => {
    expect(ROLES).toEqual(['admin', 'window', 'department', 'supervisor', 'auditor', 'hotline'])
    for (const role of ROLES) expect(Value.Check(Role, role)).toBe(true)
    for (const role of ['', 'Admin', 'clerk']) expect(Value.Check(Role, role)).toBe(false)
  })

  it('let only those who handle applications and work orders see identity numbers unmasked', () => {
    // Rule 28: the hotline calls the citizen back, so it keeps the phone and the identity number.
    expect(ROLES.filter(seesPersonalData)).toEqual(['admin', 'window', 'department', 'hotline'])
  })

  it('record an actor as an organisation and a role, and perhaps the key used', () => {
    expect(Value.Check(Actor, { organizationId: 'gz-amr', role: 'department' })).toBe(true)
    expect(Value.Check(Actor, { organizationId: 'gz-amr', role: 'department', keyId: 'k-1' })).toBe(true)
    for (const bad of [
      { organizationId: 'gz-amr' }, { role: 'department' }, { organizationId: 1, role: 'department' },
      { organizationId: 'gz-amr', role: 'mayor' }, { organizationId: 'gz-amr', role: 'department', keyId: 1 },
    ]) {
      expect(Value.Check(Actor, bad), JSON.stringify(bad)).toBe(false)
    }
  })
})

describe('organisation kinds', () => {
  it('are the kinds of the contract', () => {
    expect(ORGANIZATION_KINDS).toEqual([
      'government', 'service-management', 'service-center', 'convenience-center', 'department', 'authorized-org', 'public-utility', 'hotline',
    ])
    for (const kind of ORGANIZATION_KINDS) expect(Value.Check(OrganizationKind, kind)).toBe(true)
    expect(Value.Check(OrganizationKind, 'company')).toBe(false)
  })
})

describe('refusals', () => {
  it('map each code to the HTTP status of the contract', () => {
    expect(REFUSALS).toEqual({ invalid_transition: 409, forbidden: 403, unprocessable: 422, conflict: 409, validation_failed: 400 })
  })

  it('carry a code, a message and where in the input the problem is', () => {
    const refusal = new Refusal('validation_failed', 'bad note', [{ path: '/params/note', message: 'too long' }])
    expect(refusal).toBeInstanceOf(Error)
    expect(refusal).toMatchObject({ name: 'Refusal', code: 'validation_failed', message: 'bad note', details: [{ path: '/params/note', message: 'too long' }] })
    expect(new Refusal('forbidden', 'not yours').details).toEqual([])
  })

  it('are recognised by code only as strings, not as objects that print like one', () => {
    expect(isRefusalCode({ toString: () => 'forbidden' })).toBe(false)
    expect(isRefusalCode(new String('forbidden'))).toBe(false)
  })

  it('are recognised by code, and nothing else is', () => {
    for (const code of Object.keys(REFUSALS)) expect(isRefusalCode(code), code).toBe(true)
    for (const value of ['', 'not_found', 'toString', 'hasOwnProperty', '__proto__', 409, null, undefined, { code: 'forbidden' }]) {
      expect(isRefusalCode(value), String(value)).toBe(false)
    }
  })
})
