import type { DataConverter, Payload, PayloadCodec } from '@temporalio/common'
// A CommonJS module whose exports Node's ESM loader cannot list: its default export is the namespace.
import proto from '@temporalio/proto'
import { fileURLToPath } from 'node:url'
import { DataKeyError, type Keyring } from './data-keys.ts'

/** The metadata Temporal's own encryption samples use, so other SDKs' tooling recognises it. */
export const ENCRYPTED_ENCODING = 'binary/encrypted'
export const KEY_ID_METADATA = 'encryption-key-id'
const CIPHER_METADATA = 'encryption-cipher'
const CIPHER = 'AES-256-GCM'
/** Authenticated with each payload, so a payload ciphertext never opens as another store's field. */
const PURPOSE = 'temporal payload'

const { Payload: PayloadMessage } = proto.temporal.api.common.v1
const utf8 = new TextEncoder()
const text = new TextDecoder()

/**
 * Encrypts every payload banjian hands Temporal (workflow and activity inputs and results,
 * update arguments, query answers, markers), so histories and the Temporal UI show ciphertext.
 * The whole payload, its metadata included, is sealed as one protobuf; the outer payload says
 * only which key sealed it. Payloads not encrypted (histories recorded before this codec) pass
 * through unchanged, so running cases and archived histories from then still replay.
 */
export class PayloadEncryption implements PayloadCodec {
  constructor(private readonly keyring: Keyring) {}

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      const { keyId, sealed } = this.keyring.seal(PayloadMessage.encode(payload).finish(), PURPOSE)
      return {
        metadata: {
          encoding: utf8.encode(ENCRYPTED_ENCODING),
          [KEY_ID_METADATA]: utf8.encode(keyId),
          [CIPHER_METADATA]: utf8.encode(CIPHER),
        },
        data: sealed,
      }
    })
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => {
      const encoding = payload.metadata?.['encoding']
      if (!encoding || text.decode(encoding) !== ENCRYPTED_ENCODING) return payload
      const keyId = payload.metadata?.[KEY_ID_METADATA]
      if (!keyId) throw new DataKeyError(`an ${ENCRYPTED_ENCODING} payload without ${KEY_ID_METADATA}: it cannot be decrypted`)
      const opened = this.keyring.open(text.decode(keyId), payload.data ?? new Uint8Array(), PURPOSE)
      return PayloadMessage.decode(opened)
    })
  }
}

/**
 * What every Temporal client, worker and replayer of banjian converts payloads with. The codec
 * runs outside the workflow sandbox, so the workflow bundle needs nothing of it. `undefined`:
 * plaintext, only for recording the fixture histories that replay tests read.
 */
export function dataConverterFor(keyring: Keyring | undefined): DataConverter {
  return keyring ? { payloadCodecs: [new PayloadEncryption(keyring)], failureConverterPath: FAILURE_CONVERTER_PATH } : {}
}

/**
 * Failures with their message and stack trace encoded as a payload (failure-converter.cjs), which
 * the codec then encrypts. The workflow bundle is built with it too (workflowBundleOptions):
 * refusals and failures raised in the sandbox are converted there.
 */
export const FAILURE_CONVERTER_PATH = fileURLToPath(new URL('./failure-converter.cjs', import.meta.url))
