// Installs the pinned schemathesis (test/fuzz/requirements.txt) into a venv under .tools/ (once).
// Run directly it prints the path of the installed `schemathesis` command.
import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { access, constants, mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { PROJECT_ROOT } from '../src/infra/temporal-binaries.ts'

const run = promisify(execFile)

const REQUIREMENTS = join(PROJECT_ROOT, 'test', 'fuzz', 'requirements.txt')

/** The venv's `schemathesis` command, installing the pinned requirements the first time. */
export async function installSchemathesis(): Promise<string> {
  const requirements = await readFile(REQUIREMENTS, 'utf8')
  const version = /^schemathesis==(\S+)$/m.exec(requirements)?.[1]
  if (!version) throw new Error(`${REQUIREMENTS} does not pin schemathesis==<version>`)
  const venv = join(PROJECT_ROOT, '.tools', `schemathesis-${version}`)
  const command = join(venv, 'bin', 'schemathesis')
  // The marker holds the requirements' digest: written last, so an interrupted install or a
  // changed pin is never taken as done.
  const marker = join(venv, 'installed-requirements.sha256')
  const digest = createHash('sha256').update(requirements).digest('hex')
  if ((await readFile(marker, 'utf8').catch(() => '')) === digest && (await isExecutable(command))) return command

  await rm(venv, { recursive: true, force: true })
  await mkdir(join(PROJECT_ROOT, '.tools'), { recursive: true })
  try {
    await run(await pythonCommand(), ['-m', 'venv', venv])
    await run(join(venv, 'bin', 'python'), ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', '-r', REQUIREMENTS],
      { maxBuffer: 16 * 1024 * 1024 })
  } catch (err) {
    await rm(venv, { recursive: true, force: true })
    const detail = err instanceof Error ? err.message : String(err)
    throw new Error(`could not install schemathesis ${version} into ${venv}: ${detail}`)
  }
  if (!(await isExecutable(command))) throw new Error(`schemathesis ${version} installed but ${command} is missing`)
  await writeFile(marker, digest)
  return command
}

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK)
    return true
  } catch {
    return false
  }
}

async function pythonCommand(): Promise<string> {
  for (const candidate of ['python3', 'python']) {
    try {
      await run(candidate, ['-m', 'venv', '--help'])
      return candidate
    } catch {
      // try the next one
    }
  }
  throw new Error('Python 3 with the venv module is needed to install schemathesis (python3 -m venv)')
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log(`schemathesis: ${await installSchemathesis()}`)
}
