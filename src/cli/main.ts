import { Command, InvalidArgumentError } from 'commander'
import pino from 'pino'
import { ConfigError, parseConfig } from '../config.ts'
import { openDatabase } from '../db/client.ts'
import { installRuntime, prepareDatabase, startSystem, type Role } from '../system.ts'

const program = new Command('banjian').description('办件 — case handling for city government services')

function parseRole(value: string): Role {
  if (value === 'all' || value === 'api' || value === 'worker') return value
  throw new InvalidArgumentError('must be all, api or worker')
}

program.command('start')
  .description('start the API and the worker; with no configuration, also an embedded Postgres and Temporal dev server')
  .option('--role <role>', 'all | api | worker', parseRole, 'all' as Role)
  .action(async (options: { role: Role }) => {
    const config = parseConfig()
    const log = pino({ level: config.LOG_LEVEL })
    installRuntime()
    const system = await startSystem(config, { role: options.role, logger: log, pathVar: process.env.PATH })
    let stopping = false
    const stop = async (signal: string) => {
      if (stopping) return
      stopping = true
      log.info({ signal }, 'shutting down')
      await system.stop()
      log.info('stopped')
      process.exit(0)
    }
    process.on('SIGINT', () => void stop('SIGINT'))
    process.on('SIGTERM', () => void stop('SIGTERM'))
  })

program.command('migrate')
  .description('apply database migrations, seed the official calendar and the first administrator key')
  .action(async () => {
    const config = parseConfig()
    if (!config.DATABASE_URL) throw new InvalidArgumentError('DATABASE_URL is required for migrate (start migrates the embedded database itself)')
    const database = openDatabase({ url: config.DATABASE_URL })
    try {
      await prepareDatabase(database, config, pino({ level: config.LOG_LEVEL }))
      console.log('database is up to date')
    } finally {
      await database.close()
    }
  })

try {
  await program.parseAsync(process.argv)
} catch (err) {
  if (err instanceof ConfigError) {
    console.error(err.message)
    process.exit(2)
  }
  console.error(err instanceof Error ? err.stack ?? err.message : err)
  process.exit(1)
}
