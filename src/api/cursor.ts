import { createHmac, timingSafeEqual } from 'node:crypto'
import type { Static, TSchema } from 'typebox'
import { Compile } from 'typebox/compile'
import { unsafeTextPath } from '../domain/safe-text.ts'
import { problem } from './problem.ts'

const MAC_BYTES = 16

/** One list's cursors: `seal` the sort key of a page's last row, `open` a cursor a client sent back. */
export interface CursorCodec<Key> {
  seal(key: Key): string
  open(cursor: string | undefined): Key | undefined
}

/**
 * Opaque keyset cursors: the sort key as JSON, signed with a secret every API process shares
 * and with the list's name. A cursor this server did not give out for this list is refused before
 * anything reads it, and one it did give out must still have the list's key shape, in safe text.
 */
export function createCursors(secret: Buffer) {
  const sign = (list: string, payload: string) =>
    createHmac('sha256', secret).update(`${list}\n${payload}`).digest().subarray(0, MAC_BYTES)
  return {
    of<Shape extends TSchema>(list: string, shape: Shape): CursorCodec<Static<Shape>> {
      const check = Compile(shape)
      const refuse = () => problem('validation_failed', `cursor is not one this server gave out for ${list}`,
        [{ path: 'querystring/cursor', message: 'is not a cursor this list gave out' }])
      return {
        seal(key) {
          const payload = Buffer.from(JSON.stringify(key)).toString('base64url')
          return `${payload}.${sign(list, payload).toString('base64url')}`
        },
        open(cursor) {
          if (cursor === undefined) return undefined
          const [payload, signature, ...rest] = cursor.split('.')
          if (!payload || !signature || rest.length > 0) throw refuse()
          const given = Buffer.from(signature, 'base64url')
          if (given.length !== MAC_BYTES || !timingSafeEqual(given, sign(list, payload))) throw refuse()
          let key: unknown
          try {
            key = JSON.parse(Buffer.from(payload, 'base64url').toString())
          } catch {
            throw refuse()
          }
          if (!check.Check(key) || unsafeTextPath(key) !== undefined) throw refuse()
          return key
        },
      }
    },
  }
}
export type Cursors = ReturnType<typeof createCursors>
