import type { FastifyInstance } from 'fastify'
import { problem } from './problem.ts'

/** JSON bodies are at most 1 MiB (API.md, Conventions). */
export const BODY_LIMIT_BYTES = 1024 * 1024

/** Deepest nesting of arrays and objects a body may have; real requests stay under ten. */
export const MAX_JSON_DEPTH = 64

const OPEN_OBJECT = 0x7b
const OPEN_ARRAY = 0x5b
const CLOSE_OBJECT = 0x7d
const CLOSE_ARRAY = 0x5d
const QUOTE = 0x22
const BACKSLASH = 0x5c

/**
 * True when `text` nests arrays and objects deeper than `limit`. Read from the text, before
 * parsing, so a body nested ten thousand deep never reaches a recursive walk (a schema check, a
 * JSONLogic evaluation, Postgres's jsonb) that would fail on it with a 5xx.
 */
export function nestsDeeperThan(text: string, limit: number): boolean {
  let depth = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (inString) {
      if (c === BACKSLASH) i++
      else if (c === QUOTE) inString = false
    } else if (c === QUOTE) {
      inString = true
    } else if (c === OPEN_OBJECT || c === OPEN_ARRAY) {
      if (++depth > limit) return true
    } else if (c === CLOSE_OBJECT || c === CLOSE_ARRAY) {
      depth--
    }
  }
  return false
}

/**
 * `application/json` as Fastify parses it, bounded in depth. Clients that always send
 * `content-type: application/json` may send no body with a bodiless POST (publish, revoke): that
 * is no body, not malformed JSON.
 */
export function parseJsonBodies(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error')
  app.removeContentTypeParser('application/json')
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = body.toString()
    if (text === '') done(null, undefined)
    else if (nestsDeeperThan(text, MAX_JSON_DEPTH)) {
      done(problem('validation_failed', `the body nests arrays and objects more than ${MAX_JSON_DEPTH} deep`,
        [{ path: 'body', message: `must not nest more than ${MAX_JSON_DEPTH} deep` }]), undefined)
    } else void parseJson(request, text, done)
  })
}
