import type { Payload, PayloadCodec } from '@temporalio/common'
import type { FastifyReply, FastifyRequest } from 'fastify'
import { Type, type Static } from 'typebox'
import { DataKeyError } from '../../infra/data-keys.ts'
import type { App } from '../app.ts'
import { allow } from '../auth.ts'
import { commonErrorResponses, problem, ProblemDetails } from '../problem.ts'

/** Protobuf JSON's bytes: standard base64 with its padding, as the Temporal UI and CLI send them. */
const Base64 = Type.String({
  pattern: '^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$',
  maxLength: 1_048_576,
  description: 'bytes, base64',
})

const PayloadJson = Type.Object({
  metadata: Type.Optional(Type.Record(Type.String({ minLength: 1, maxLength: 256 }), Base64, { maxProperties: 64 })),
  data: Type.Optional(Base64),
}, { additionalProperties: false, description: 'a temporal.api.common.v1.Payload in protobuf JSON' })

/** The codec server protocol's body and answer: a temporal.api.common.v1.Payloads in protobuf JSON. */
export const PayloadsJson = Type.Object({
  payloads: Type.Optional(Type.Array(PayloadJson, { maxItems: 1000 })),
}, { additionalProperties: false })
export type PayloadsJson = Static<typeof PayloadsJson>

const CodecHeaders = Type.Object({
  'x-namespace': Type.Optional(Type.String({ maxLength: 256, description: 'the namespace the Temporal UI shows (one keyring serves them all)' })),
})

/** Only keys that may see applicants' personal data in clear open it here (DESIGN "Access"). */
const KEY_HOLDERS = ['admin', 'auditor'] as const

export interface CodecEndpointOptions {
  /** The Temporal payload codec (PayloadEncryption); absent: this API process holds no data keys. */
  codec: PayloadCodec | undefined
  /** Browser origins allowed to call (the Temporal UI's). */
  corsOrigins: readonly string[]
}

/**
 * Temporal's codec server protocol for the Temporal UI (and `temporal … --codec-endpoint`): the UI
 * posts the payloads of a history it shows and gets them back decoded. Its origin is allowed by
 * CORS; the caller's key must be one that may see personal data.
 */
export async function codecRoutes(app: App, options: CodecEndpointOptions): Promise<void> {
  const origins = new Set(options.corsOrigins)
  const allowOrigin = (request: FastifyRequest, reply: FastifyReply) => {
    const origin = request.headers.origin
    if (origin === undefined || !origins.has(origin)) return
    void reply.header('access-control-allow-origin', origin).header('access-control-allow-credentials', 'true').header('vary', 'origin')
  }
  // Every answer, refusals too: a browser hides an answer without the header from the UI.
  app.addHook('onSend', async (request, reply) => allowOrigin(request, reply))

  for (const direction of ['encode', 'decode'] as const) {
    app.options(`/codec/${direction}`, { config: { keyless: true }, schema: { hide: true } }, async (request, reply) => {
      allowOrigin(request, reply)
      void reply.status(204).header('access-control-allow-methods', 'POST')
        .header('access-control-allow-headers', 'authorization, content-type, x-namespace')
        .header('access-control-max-age', '600')
      return reply.send()
    })

    app.post(`/codec/${direction}`, {
      preValidation: allow(KEY_HOLDERS),
      schema: {
        tags: ['operations'],
        operationId: direction === 'encode' ? 'encodePayloads' : 'decodePayloads',
        summary: direction === 'encode'
          ? 'Encrypt Temporal payloads (codec server protocol, for the Temporal UI)'
          : 'Decrypt Temporal payloads (codec server protocol, for the Temporal UI)',
        headers: CodecHeaders,
        body: PayloadsJson,
        response: { 200: PayloadsJson, ...commonErrorResponses, 422: ProblemDetails, 503: ProblemDetails },
      },
    }, async (request) => {
      const { codec } = options
      if (!codec) throw problem('not_ready', 'this API process holds no data keys')
      const payloads = (request.body.payloads ?? []).map(fromJson)
      try {
        const answered = direction === 'encode' ? await codec.encode(payloads) : await codec.decode(payloads)
        return { payloads: answered.map(toJson) }
      } catch (err) {
        if (err instanceof DataKeyError) throw problem('unprocessable', `a payload cannot be decrypted: ${err.message}`)
        throw err
      }
    })
  }
}

function fromJson(json: Static<typeof PayloadJson>): Payload {
  return {
    metadata: Object.fromEntries(Object.entries(json.metadata ?? {}).map(([key, value]) => [key, Buffer.from(value, 'base64')])),
    data: Buffer.from(json.data ?? '', 'base64'),
  }
}

function toJson(payload: Payload): Static<typeof PayloadJson> {
  return {
    metadata: Object.fromEntries(Object.entries(payload.metadata ?? {}).map(([key, value]) => [key, Buffer.from(value).toString('base64')])),
    data: Buffer.from(payload.data ?? new Uint8Array()).toString('base64'),
  }
}
