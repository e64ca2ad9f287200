import { STATUS_CODES } from 'node:http'
import type { Socket } from 'node:net'
import { problem, type HttpProblem } from './problem.ts'

/**
 * What to answer a request Node's HTTP parser refused before Fastify saw it: request line and
 * headers over Node's 16 KiB, a request that did not arrive in time, or bytes that are not HTTP.
 * Fastify's own answer is plain JSON; this one is problem+json with a code, like every other.
 */
export function clientErrorProblem(err: Error & { code?: string }): HttpProblem {
  switch (err.code) {
    case 'HPE_HEADER_OVERFLOW':
      return problem('headers_too_large', 'the request line and headers together exceed 16 KiB')
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return problem('request_timeout', 'the request was not received in time')
    default:
      return problem('validation_failed', 'the request is not well-formed HTTP/1.1', [{ path: 'request', message: 'is not well-formed HTTP' }])
  }
}

/** Fastify's `clientErrorHandler`: answers on the raw socket, then closes it. */
export function answerClientError(err: Error & { code?: string }, socket: Socket): void {
  // A reset connection has nobody left to answer.
  if (err.code === 'ECONNRESET' || socket.destroyed) return
  // Nothing yet written, or the answer would land inside another response.
  if (socket.writable && socket.bytesWritten === 0) {
    const answer = clientErrorProblem(err)
    const body = JSON.stringify(answer.toJSON())
    socket.write(`HTTP/1.1 ${answer.status} ${STATUS_CODES[answer.status]}\r\n`
      + `Content-Type: application/problem+json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`)
  }
  socket.destroy(err)
}
