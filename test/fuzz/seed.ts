// A small, realistic directory for the fuzzer to reach deep paths with: an organisation tree (with
// a 12345 hotline), a published service item, and one case that has been accepted (so it has a history).

/** Ids the hooks steer path parameters to (test/fuzz/hooks.py). */
export interface SeededIds {
  organizationId: string
  serviceItemCode: string
  caseId: string
  year: number
  /** The seeded item's material codes and channels, for submissions that get past the guide. */
  materialCodes: string[]
  channels: string[]
}

export interface Seeded {
  ids: SeededIds
  /** A window of the service centre, and a department key of the seeded case's handler. */
  windowKey: string
  departmentKey: string
  /** The 12345 hotline's key: it files work orders. */
  hotlineKey: string
}

const ITEM_CODE = '440100-BIZ-001'

export async function seed(baseUrl: string, adminKey: string): Promise<Seeded> {
  const call = async (key: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })
    const text = await response.text()
    if (response.status >= 300) throw new Error(`seeding: ${method} ${path} answered ${response.status}: ${text}`)
    return text ? JSON.parse(text) as Record<string, unknown> : {}
  }

  const tree: Array<[string, string, string, string]> = [
    ['gz', '广州市人民政府', 'government', 'root'],
    ['gz-sm', '广州市政务服务管理办公室', 'service-management', 'gz'],
    ['gz-center', '广州市政务服务中心', 'service-center', 'gz'],
    ['gz-amr', '广州市市场监督管理局', 'department', 'gz'],
    ['gz-tianhe', '广州市天河区人民政府', 'government', 'gz'],
    ['gz-tianhe-amr', '天河区市场监督管理局', 'department', 'gz-tianhe'],
    ['gz-12345', '广州12345政务服务便民热线', 'hotline', 'gz'],
  ]
  for (const [id, name, kind, parentId] of tree) await call(adminKey, 'PUT', `/v1/organizations/${id}`, { name, kind, parentId })
  const key = async (organizationId: string, role: string) =>
    (await call(adminKey, 'POST', '/v1/api-keys', { organizationId, role, name: `fuzz ${role}` })).key as string
  const windowKey = await key('gz-center', 'window')
  const departmentKey = await key('gz-amr', 'department')
  const hotlineKey = await key('gz-12345', 'hotline')

  await call(adminKey, 'PUT', `/v1/service-items/${ITEM_CODE}`, {
    name: '企业设立登记',
    departmentId: 'gz-amr',
    processing: 'promised',
    promisedLimit: { workingDays: 5 },
    statutoryLimit: { workingDays: 20 },
    materials: [
      { code: 'application-form', name: '申请书', required: true },
      { code: 'id-card', name: '身份证', required: true, sharedSource: 'resident-id' },
      { code: 'lease', name: '租赁合同', required: true },
      { code: 'photo', name: '照片', required: false },
    ],
    channels: ['window', 'online'],
  })
  // Another key than the draft's author reviews it (rule 40).
  await call(await key('gz', 'supervisor'), 'POST', `/v1/service-items/${ITEM_CODE}/review`, { approved: true, note: 'fuzz item' })
  await call(adminKey, 'POST', `/v1/service-items/${ITEM_CODE}/publish`)

  const submitted = await call(windowKey, 'POST', '/v1/applications', {
    serviceItemCode: ITEM_CODE,
    applicant: { type: 'person', name: '张三', idNumber: '440106199001011234' },
    channel: 'window',
    materials: [{ code: 'application-form', ref: 'doc://form/1' }, { code: 'lease', ref: 'doc://lease/1' }],
  }, { 'idempotency-key': 'fuzz-seed-application' })
  const caseId = submitted.id as string
  await call(departmentKey, 'POST', `/v1/cases/${caseId}/actions`, { action: 'accept' })
  return {
    ids: {
      organizationId: 'gz-amr', serviceItemCode: ITEM_CODE, caseId, year: new Date().getUTCFullYear(),
      materialCodes: ['application-form', 'id-card', 'lease', 'photo'], channels: ['window', 'online'],
    },
    windowKey, departmentKey, hotlineKey,
  }
}
