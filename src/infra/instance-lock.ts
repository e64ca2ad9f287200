import { createHash } from 'node:crypto'
import { mkdir, realpath, rm } from 'node:fs/promises'
import { connect, createServer, type Server } from 'node:net'
import { join, resolve } from 'node:path'

/**
 * One banjian at a time on a data directory: the embedded Postgres and Temporal dev server there
 * belong to whoever holds this lock. The lock is a listening Unix socket. On Linux it lives in the
 * abstract namespace, named after the directory, so the kernel frees it the moment its process
 * dies (SIGKILL included) and binding it is atomic: a held lock is always a live holder. Elsewhere
 * it is a socket file in the directory, which a connection attempt tells live from stale.
 * Whoever holds it answers each connection with who it is.
 */
export interface InstanceLock {
  /** Adds to what the holder tells a start it refuses (the API's URL, once listening). */
  describe(more: Record<string, string>): void
  release(): Promise<void>
}

export interface Holder {
  pid?: number
  since?: string
  [more: string]: unknown
}

export class InstanceRunning extends Error {
  constructor(readonly dataDir: string, readonly holder: Holder) {
    const who = [holder.pid ? `pid ${holder.pid}` : undefined, holder.since ? `since ${holder.since}` : undefined,
      typeof holder.url === 'string' ? `API at ${holder.url}` : undefined].filter(Boolean).join(', ')
    super(`banjian is already running on the data directory ${dataDir}${who ? ` (${who})` : ''}; `
      + 'stop it first, or give this one its own BANJIAN_DATA_DIR')
    this.name = 'InstanceRunning'
  }
}

/** Takes the data directory's lock, or throws `InstanceRunning` naming the live holder. */
export async function lockDataDir(dataDir: string): Promise<InstanceLock> {
  const dir = resolve(dataDir)
  await mkdir(dir, { recursive: true })
  const address = await lockAddress(dir)
  const about: Holder = { pid: process.pid, since: new Date().toISOString() }
  const server = createServer((socket) => {
    socket.on('error', () => undefined)
    socket.end(JSON.stringify(about))
  })
  // Neither a one-off command nor a test should stay alive for its lock alone.
  server.unref()
  for (let attempt = 0; ; attempt++) {
    try {
      await listen(server, address)
      break
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err
      const holder = await askHolder(address)
      if (holder) throw new InstanceRunning(dir, holder)
      // Only a socket file can outlive its process: remove it and try once more.
      if (isAbstract(address) || attempt > 0) throw new InstanceRunning(dir, {})
      await rm(address, { force: true })
    }
  }
  return {
    describe(more) {
      Object.assign(about, more)
    },
    release: () => new Promise((resolveClose) => server.close(() => resolveClose())),
  }
}

async function lockAddress(dir: string): Promise<string> {
  if (process.platform !== 'linux') return join(dir, 'banjian.lock')
  const name = createHash('sha256').update(await realpath(dir)).digest('hex').slice(0, 32)
  return `\0banjian-data-dir-${name}`
}

const isAbstract = (address: string) => address.startsWith('\0')

function listen(server: Server, address: string): Promise<void> {
  return new Promise((resolveListen, reject) => {
    server.once('error', reject)
    server.listen(address, () => {
      server.removeListener('error', reject)
      resolveListen()
    })
  })
}

/** What the holder says about itself; undefined when nobody answers (a stale socket file). */
function askHolder(address: string): Promise<Holder | undefined> {
  return new Promise((resolveHolder) => {
    const socket = connect(address)
    let said = ''
    socket.setTimeout(2000, () => socket.destroy())
    socket.on('data', (chunk: Buffer) => {
      said += chunk.toString()
    })
    socket.on('error', () => resolveHolder(undefined))
    socket.on('close', (failed) => {
      if (failed) return
      try {
        resolveHolder(JSON.parse(said) as Holder)
      } catch {
        // Someone holds it but did not say who (or took too long to).
        resolveHolder({})
      }
    })
  })
}
