// How the extension finds the codekin server. Pure decision logic; the file system and the
// Python interpreter are reached through the functions passed in (so tests can fake them), and
// paths are built with the rules of the platform given (so Windows layouts are tested anywhere).
import * as path from 'path';

/** Runs codekin's CLI inside an interpreter that has the package but no `codekin` script. */
export const PYTHON_LAUNCH = 'import sys; from codekin.cli import main; sys.exit(main())';
/** Exits 0 when `import codekin` works. */
export const PROBE_IMPORT = 'import codekin';
/** Exits 0 when `python -m codekin` works (codekin/__main__.py exists), without running it. */
export const PROBE_MODULE = "import importlib.util as u, sys; sys.exit(u.find_spec('codekin.__main__') is None)";
/** Virtual environments looked for in each workspace folder, in this order. */
export const VENV_DIRS = ['.venv', 'venv', 'env'];

export interface LocatorInput {
  /** `codekin.server.path` (may be empty). */
  configuredPath: string;
  /** `codekin.server.args`. */
  args: string[];
  /** The Python interpreter selected in VS Code, if any. */
  interpreter?: string;
  /** The workspace folders (file system paths), searched for a virtual environment. */
  workspaceFolders?: string[];
  platform?: NodeJS.Platform;
  homeDir?: string;
  fileExists(p: string): Promise<boolean>;
  /** Whether `command ...args` exits 0 (a probe such as `python -c "import codekin"`). */
  runs(command: string, args: string[]): Promise<boolean>;
  /** A program on PATH, or undefined. */
  which(name: string): Promise<string | undefined>;
}

export type Source = 'setting' | 'interpreter' | 'venv' | 'path' | 'launcher';

export type Located =
  | { source: Source; command: string; args: string[]; interpreter?: string; shell?: boolean }
  | { source: 'missing'; reason: string; interpreter?: string };

function pathFor(platform: NodeJS.Platform): path.PlatformPath {
  return platform === 'win32' ? path.win32 : path.posix;
}

function expandHome(p: string, home: string | undefined, platform: NodeJS.Platform): string {
  if (home && (p === '~' || p.startsWith('~/') || p.startsWith('~\\'))) {
    return pathFor(platform).join(home, p.slice(1));
  }
  return p;
}

/** Windows runs `.cmd`/`.bat` files only through a shell (Node refuses to spawn them directly). */
function needsShell(command: string, platform: NodeJS.Platform): boolean {
  return platform === 'win32' && /\.(cmd|bat)$/i.test(command);
}

/**
 * The `codekin` console scripts that may belong to a Python interpreter, best first: next to it
 * (a venv's `bin/` or `Scripts\`), and on Windows also in `Scripts\` below it (a base install or
 * a conda environment keeps `python.exe` at the top and scripts in `Scripts\`).
 */
export function scriptsFor(python: string, platform: NodeJS.Platform = process.platform): string[] {
  const p = pathFor(platform);
  const dir = p.dirname(python);
  if (platform !== 'win32') {
    return [p.join(dir, 'codekin')];
  }
  const found = [p.join(dir, 'codekin.exe')];
  if (p.basename(dir).toLowerCase() !== 'scripts') {
    found.push(p.join(dir, 'Scripts', 'codekin.exe'));
  }
  return found;
}

/** The first of `scriptsFor` (kept for callers that want one path). */
export function scriptNextTo(python: string, platform: NodeJS.Platform = process.platform): string {
  return scriptsFor(python, platform)[0];
}

/** The interpreter and console script of a virtual environment directory. */
export function venvLayout(venv: string, platform: NodeJS.Platform): { python: string; script: string } {
  const p = pathFor(platform);
  return platform === 'win32'
    ? { python: p.join(venv, 'Scripts', 'python.exe'), script: p.join(venv, 'Scripts', 'codekin.exe') }
    : { python: p.join(venv, 'bin', 'python'), script: p.join(venv, 'bin', 'codekin') };
}

/**
 * Python launchers tried last, as `[program, ...arguments before -m]`: the `py` launcher on
 * Windows (then `python`, which may be the Microsoft Store stub: it fails the probe), `python3`
 * elsewhere (macOS has no `python` unless one is installed).
 */
export function launchers(platform: NodeJS.Platform): string[][] {
  return platform === 'win32' ? [['py', '-3'], ['python']] : [['python3']];
}

/** The names `which` is asked for: on Windows a bare name also as `name.exe`, `name.cmd`. */
function programNames(name: string, platform: NodeJS.Platform): string[] {
  if (platform !== 'win32' || /\.[a-z0-9]+$/i.test(name)) {
    return [name];
  }
  return [`${name}.exe`, `${name}.cmd`, `${name}.bat`, name];
}

async function whichAny(input: LocatorInput, name: string, platform: NodeJS.Platform): Promise<string | undefined> {
  for (const candidate of programNames(name, platform)) {
    const found = await input.which(candidate);
    if (found) {
      return found;
    }
  }
  return undefined;
}

async function firstExisting(input: LocatorInput, paths: string[]): Promise<string | undefined> {
  for (const p of paths) {
    if (await input.fileExists(p)) {
      return p;
    }
  }
  return undefined;
}

/**
 * Order: the explicit `codekin.server.path`; else the selected interpreter when codekin is
 * installed in it (its `codekin` script, or `python -c <launch>`); else a virtual environment in
 * a workspace folder (`.venv`, `venv`, `env`: `bin/codekin` or `Scripts\codekin.exe`, or its
 * Python with codekin); else `codekin` on PATH; else a Python launcher that has codekin
 * (`py -3 -m codekin` on Windows, `python3 -m codekin` elsewhere); else missing (the caller
 * offers to install it — never silently).
 */
export async function locateServer(input: LocatorInput): Promise<Located> {
  const platform = input.platform ?? process.platform;
  const p = pathFor(platform);
  const args = input.args.length ? input.args : ['serve'];
  const configured = expandHome(input.configuredPath.trim(), input.homeDir, platform);
  if (configured) {
    const hasSep = configured.includes('/') || configured.includes('\\');
    if (!hasSep) {
      const found = await whichAny(input, configured, platform);
      if (found) {
        return { source: 'setting', command: found, args, ...(needsShell(found, platform) ? { shell: true } : {}) };
      }
      return { source: 'missing', reason: `codekin.server.path: "${configured}" is not on PATH` };
    }
    if (await input.fileExists(configured)) {
      return {
        source: 'setting',
        command: configured,
        args,
        ...(needsShell(configured, platform) ? { shell: true } : {}),
      };
    }
    return { source: 'missing', reason: `codekin.server.path: ${configured} does not exist` };
  }
  if (input.interpreter) {
    const script = await firstExisting(input, scriptsFor(input.interpreter, platform));
    if (script) {
      return { source: 'interpreter', command: script, args, interpreter: input.interpreter };
    }
    if (await input.runs(input.interpreter, ['-c', PROBE_IMPORT])) {
      return {
        source: 'interpreter',
        command: input.interpreter,
        args: ['-c', PYTHON_LAUNCH, ...args],
        interpreter: input.interpreter,
      };
    }
  }
  for (const folder of input.workspaceFolders ?? []) {
    for (const dir of VENV_DIRS) {
      const venv = venvLayout(p.join(folder, dir), platform);
      if (await input.fileExists(venv.script)) {
        return { source: 'venv', command: venv.script, args, interpreter: venv.python };
      }
      if ((await input.fileExists(venv.python)) && (await input.runs(venv.python, ['-c', PROBE_IMPORT]))) {
        return { source: 'venv', command: venv.python, args: ['-c', PYTHON_LAUNCH, ...args], interpreter: venv.python };
      }
    }
  }
  const onPath = await input.which(platform === 'win32' ? 'codekin.exe' : 'codekin');
  if (onPath) {
    return { source: 'path', command: onPath, args };
  }
  for (const [program, ...before] of launchers(platform)) {
    const found = await whichAny(input, program, platform);
    if (found && (await input.runs(found, [...before, '-c', PROBE_MODULE]))) {
      return { source: 'launcher', command: found, args: [...before, '-m', 'codekin', ...args] };
    }
  }
  const tried = platform === 'win32' ? 'py -3 -m codekin' : 'python3 -m codekin';
  return {
    source: 'missing',
    interpreter: input.interpreter,
    reason: input.interpreter
      ? `codekin is not installed in the selected interpreter (${input.interpreter}), a workspace virtual environment, on PATH or for ${tried}`
      : `no codekin.server.path, no Python interpreter or workspace virtual environment with codekin, no codekin on PATH, and ${tried} fails`,
  };
}

/** A `which` over a PATH string (`path.delimiter` and `path.join` of the platform given). */
export async function whichIn(
  name: string,
  pathEnv: string | undefined,
  fileExists: (p: string) => Promise<boolean>,
  delimiter: string = path.delimiter,
  platform: NodeJS.Platform = process.platform,
): Promise<string | undefined> {
  const p = pathFor(platform);
  for (const dir of (pathEnv ?? '').split(delimiter)) {
    const clean = platform === 'win32' ? dir.replace(/^"(.*)"$/, '$1') : dir; // Windows PATH may quote entries
    if (!clean) {
      continue;
    }
    const candidate = p.join(clean, name);
    if (await fileExists(candidate)) {
      return candidate;
    }
  }
  return undefined;
}

/** The pip command that installs codekin into `python` (shown to the user before it runs). */
export function installCommand(python: string, spec = 'codekin'): { command: string; args: string[] } {
  return { command: python, args: ['-m', 'pip', 'install', '--upgrade', spec] };
}

/** Quote an argument for display in a terminal (POSIX shells and PowerShell alike). */
export function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}
