import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import pg from 'pg'
import { afterAll, expect, it } from 'vitest'
import { alive } from '../../src/infra/child-process.ts'
import { freePort } from '../../src/infra/ports.ts'
import { PROJECT_ROOT } from '../../src/infra/temporal-binaries.ts'

// `npm start` in a terminal, stopped with Ctrl-C: the terminal signals its whole foreground process
// group. The embedded Postgres must not take that SIGINT for itself (a fast shutdown, under the API
// and the worker still draining): banjian stops it last.

let scratch: string | undefined
let postmaster: number | undefined

afterAll(async () => {
  if (postmaster && alive(postmaster)) process.kill(postmaster, 'SIGQUIT')
  if (scratch) await rm(scratch, { recursive: true, force: true })
})

it('keeps serving through a Ctrl-C to the foreground process group, and stops when banjian stops it', async () => {
  scratch = await mkdtemp(join(tmpdir(), 'banjian-embedded-pg-'))
  const dataDir = join(scratch, 'pg')
  // Detached: a process group of its own, as a shell gives a foreground job.
  const holder = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/embedded-pg-holder.ts', dataDir, String(await freePort())], {
    cwd: PROJECT_ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  holder.stdout.on('data', (chunk: Buffer) => output += chunk.toString())
  holder.stderr.on('data', (chunk: Buffer) => output += chunk.toString())
  const exited = new Promise<number | null>((resolve) => holder.once('exit', (code) => resolve(code)))
  try {
    for (const gaveUp = Date.now() + 60_000; !/^ready /m.test(output);) {
      if (holder.exitCode !== null || Date.now() > gaveUp) throw new Error(`the embedded Postgres did not start:\n${output}`)
      await sleep(100)
    }
    const url = /^ready (\S+)$/m.exec(output)![1]!
    postmaster = Number((await readFile(join(dataDir, 'postmaster.pid'), 'utf8')).split('\n')[0])

    process.kill(-holder.pid!, 'SIGINT')
    while (!output.includes('SIGINT')) await sleep(50)
    // Time for a fast shutdown to have begun, had Postgres been sent one.
    await sleep(1000)
    expect(alive(postmaster)).toBe(true)
    const client = new pg.Client({ connectionString: url })
    await client.connect()
    try {
      expect((await client.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }])
    } finally {
      await client.end()
    }

    holder.kill('SIGTERM')
    expect(await exited).toBe(0)
    expect(alive(postmaster)).toBe(false)
    expect(existsSync(join(dataDir, 'postmaster.pid'))).toBe(false)
  } finally {
    if (holder.exitCode === null) process.kill(-holder.pid!, 'SIGKILL')
  }
}, 120_000)
