import type { FastifyReply } from 'fastify'

/**
 * What every HTML page of the API carries besides its own Content-Security-Policy: the browser
 * sniffs no other type, frames it nowhere, and sends no referrer from it.
 */
export function withPageHeaders(reply: FastifyReply): FastifyReply {
  return reply.header('x-content-type-options', 'nosniff').header('x-frame-options', 'DENY').header('referrer-policy', 'no-referrer')
}

/**
 * The docs' policy as @fastify/swagger-ui computes it for its own scripts and styles (their hashes),
 * but never framed, and without upgrade-insecure-requests: the quick start serves the docs over
 * plain http, where the page's own scripts would otherwise be asked for over https and never load.
 */
export function docsPolicy(computed: string): string {
  return computed.replace(/\s*upgrade-insecure-requests;?/, '').replace(/frame-ancestors [^;]*;/, "frame-ancestors 'none';")
}
