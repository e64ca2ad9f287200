import { DefaultLogger } from '@temporalio/worker'
import { Command, InvalidArgumentError } from 'commander'
import pino from 'pino'
import { ConfigError, parseConfig } from '../config.ts'
import { ROLES } from '../domain/roles.ts'
import { InstanceRunning } from '../infra/instance-lock.ts'
import { dataConverterFor } from '../infra/payload-encryption.ts'
import { openDatabase, type Database } from '../db/client.ts'
import {
  assemble, commandTemporalTarget, installRuntime, openCommandDatabase, prepareDatabase, propagateCalendarFromCommand,
  type ProcessRole, workerMetrics,
} from '../system.ts'
import {
  createKeyCommand, listKeysCommand, publishCalendarCommand, revokeKeyCommand, showCalendarCommand,
} from './admin-commands.ts'
import { runAuditVerify } from './audit-verify.ts'
import { rotateDataCommand } from './rotate-data.ts'

const program = new Command('banjian').description('办件 — case handling for city government services')

function parseRole(value: string): ProcessRole {
  if (value === 'all' || value === 'api' || value === 'worker') return value
  throw new InvalidArgumentError('must be all, api or worker')
}

program.command('start')
  .description('start the API and the worker; with no configuration, also an embedded Postgres and Temporal dev server')
  .option('--role <role>', 'all | api | worker', parseRole, 'all' as ProcessRole)
  .action(async (options: { role: ProcessRole }) => {
    const config = parseConfig()
    const log = pino({ level: config.LOG_LEVEL })
    installRuntime(workerMetrics(config, options.role))
    const system = await assemble(config, { role: options.role, logger: log, pathVar: process.env.PATH })
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
    // Migrations and seeds write no personal data: migrate needs no data keys.
    const database = openDatabase({ url: config.DATABASE_URL, keyring: null })
    try {
      await prepareDatabase(database, config, pino({ level: config.LOG_LEVEL }))
      console.log('database is up to date')
    } finally {
      await database.close()
    }
  })

const audit = program.command('audit').description('check the audit record')

audit.command('verify')
  .description('replay the archived Temporal histories against the current workflow code, check every hash chain, '
    + 'and compare every case\'s read side with its workflow')
  .option('--case <id>', 'only this case (its runs, its deadline watches and its chain)')
  .option('--skip-read-side', 'do not compare the read side with the workflows (when Temporal is not running)')
  .action(async (options: { case?: string; skipReadSide?: boolean }) => {
    // Replay failures are reported in the summary, one line each; the SDK's own logs (core's
    // forwarded to its logger) would only repeat them over the progress bar.
    installRuntime({
      logger: new DefaultLogger('ERROR', () => undefined),
      telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' }, forward: {} } },
    })
    await onDatabase(async (database) => {
      try {
        const config = parseConfig()
        // The archived histories' payloads and the events' personal fields are encrypted: checking them needs the keys they were sealed with.
        const temporal = options.skipReadSide ? undefined : commandTemporalTarget(config)
        return await runAuditVerify({
          database, dataConverter: dataConverterFor(database.personal.keyring), ...(options.case ? { caseId: options.case } : {}), ...(temporal ? { temporal } : {}),
        })
      } catch (err) {
        if (!isUndefinedTable(err)) throw err
        console.error('the database lacks the audit tables of this banjian version: run `banjian migrate` (or `start`) first')
        return 1
      }
    }, { dataKeys: true })
  })

/**
 * Runs a one-off command on the database `start` would use, then exits with its code (a Temporal
 * Runtime that never ran a worker would otherwise keep the process alive).
 */
async function onDatabase(command: (database: Database) => Promise<number>, options: { dataKeys?: boolean } = {}): Promise<never> {
  const config = parseConfig()
  const { database, close } = await openCommandDatabase(config, pino({ level: config.LOG_LEVEL }, process.stderr), { dataKeys: options.dataKeys ?? false })
  let code: number
  try {
    code = await command(database)
  } finally {
    await close()
  }
  process.exit(code)
}

const out = (line: string) => console.log(line)
const parseBatchSize = (value: string) => {
  if (!/^[1-9]\d{0,5}$/.test(value)) throw new InvalidArgumentError('must be a whole number of rows, 1 to 999999')
  return Number(value)
}
const parseYear = (value: string) => {
  if (!/^\d{4}$/.test(value)) throw new InvalidArgumentError('must be a four-digit year')
  return Number(value)
}

const keys = program.command('keys').description('API keys, each bound to one organisation and one role; and re-encrypting personal data after a data key rotation')
keys.command('create')
  .description('create a key and print it (once)')
  .requiredOption('--organization <id>', 'the organisation the key acts for')
  .requiredOption('--role <role>', ROLES.join(' | '))
  .option('--name <name>', 'what the key is for')
  .action((options: { organization: string; role: string; name?: string }) => onDatabase((db) => createKeyCommand(db, options, out)))
keys.command('list')
  .description('every key with its organisation, role and state (never the secret)')
  .action(() => onDatabase((db) => listKeysCommand(db, out)))
keys.command('revoke <id>')
  .description('revoke a key; it is kept for the record')
  .action((id: string) => onDatabase((db) => revokeKeyCommand(db, id, out)))
keys.command('rotate-data')
  .description('re-encrypt identity and phone numbers in Postgres under the first of BANJIAN_DATA_KEYS (and those still in clear), '
    + 'in batches; run it after every process has the new key first')
  .option('--batch-size <rows>', 'rows per transaction', parseBatchSize, 500)
  .action((options: { batchSize: number }) => onDatabase((db) => rotateDataCommand(db, options, out), { dataKeys: true }))

const calendar = program.command('calendar').description('the working-day calendar')
calendar.command('show')
  .description("a year's exceptions to Monday–Friday, whether it is published, and its version")
  .argument('<year>', 'the year', parseYear)
  .action((year: number) => onDatabase((db) => showCalendarCommand(db, year, out)))
calendar.command('publish')
  .description("replace a year's exceptions from a JSON file and publish it as a new calendar version")
  .argument('<year>', 'the year', parseYear)
  .requiredOption('--file <path>', 'JSON: [{ "date": "2027-02-08", "working": false, "name": "春节" }, …]')
  .action((year: number, options: { file: string }) => onDatabase((db) =>
    publishCalendarCommand(db, year, options.file, out, (version) => propagateCalendarFromCommand(parseConfig(), version, pino({ level: 'warn' }, process.stderr)))))

/** Postgres's 42P01 (undefined_table), also when wrapped by drizzle (as its `cause`). */
function isUndefinedTable(err: unknown): boolean {
  for (let e = err; e instanceof Error; e = e.cause) if ((e as { code?: unknown }).code === '42P01') return true
  return false
}

try {
  await program.parseAsync(process.argv)
} catch (err) {
  if (err instanceof ConfigError) {
    console.error(err.message)
    process.exit(2)
  }
  if (err instanceof InstanceRunning) {
    console.error(err.message)
    process.exit(1)
  }
  console.error(err instanceof Error ? err.stack ?? err.message : err)
  process.exit(1)
}
