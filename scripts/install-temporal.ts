// Installs the pinned Temporal CLI and time-skipping test server into .tools/ (once).
import { parseConfig } from '../src/config.ts'
import { resolveTemporalBinary } from '../src/infra/temporal-binaries.ts'

const config = parseConfig()
const cli = await resolveTemporalBinary('cli', { explicitPath: config.BANJIAN_TEMPORAL_CLI, pathVar: process.env.PATH })
const testServer = await resolveTemporalBinary('testServer', {
  explicitPath: config.BANJIAN_TEMPORAL_TEST_SERVER,
  pathVar: process.env.PATH,
})
console.log(`temporal cli: ${cli}\ntemporal test server: ${testServer}`)
