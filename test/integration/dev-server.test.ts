import { setTimeout as sleep } from 'node:timers/promises'
import { describe, expect, it } from 'vitest'
import { parseConfig } from '../../src/config.ts'
import { startDevServer } from '../../src/infra/dev-server.ts'
import { freePort } from '../../src/infra/ports.ts'
import { resolveTemporalBinary } from '../../src/infra/temporal-binaries.ts'

// The embedded Temporal dev server is a child process: when it dies under a running system (a
// 100,000-case benchmark saw it go without a word), whoever started it must hear of it.

async function devServer() {
  const config = parseConfig(process.env)
  const cliPath = await resolveTemporalBinary('cli', { explicitPath: config.BANJIAN_TEMPORAL_CLI, pathVar: process.env.PATH })
  return startDevServer({ cliPath, port: await freePort(), uiPort: 0, namespace: 'exits', retentionDays: 1 })
}

describe('the dev server', () => {
  it('reports an exit nobody asked for, with the signal', async () => {
    const server = await devServer()
    try {
      process.kill(server.pid!, 'SIGKILL')
      await expect(server.unexpectedExit).resolves.toMatchObject({ code: null, signal: 'SIGKILL' })
    } finally {
      await server.stop()
    }
  })

  it('reports nothing when it is stopped', async () => {
    const server = await devServer()
    await server.stop()
    const heard = await Promise.race([server.unexpectedExit.then(() => 'exit'), sleep(1_000).then(() => 'nothing')])
    expect(heard).toBe('nothing')
  })
})
