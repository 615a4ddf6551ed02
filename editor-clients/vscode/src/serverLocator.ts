// How the extension finds the codekin server. Pure decision logic; the file system and the
// Python interpreter are reached through the functions passed in (so tests can fake them).
import * as path from 'path';

/** Runs codekin's CLI inside an interpreter that has the package but no `codekin` script. */
export const PYTHON_LAUNCH = 'import sys; from codekin.cli import main; sys.exit(main())';

export interface LocatorInput {
  /** `codekin.server.path` (may be empty). */
  configuredPath: string;
  /** `codekin.server.args`. */
  args: string[];
  /** The Python interpreter selected in VS Code, if any. */
  interpreter?: string;
  platform?: NodeJS.Platform;
  homeDir?: string;
  fileExists(p: string): Promise<boolean>;
  /** Whether `python -c "import codekin"` works. */
  interpreterHasCodekin(python: string): Promise<boolean>;
  /** A program on PATH, or undefined. */
  which(name: string): Promise<string | undefined>;
}

export type Located =
  | { source: 'setting' | 'interpreter' | 'path'; command: string; args: string[]; interpreter?: string }
  | { source: 'missing'; reason: string; interpreter?: string };

function expandHome(p: string, home?: string): string {
  if (home && (p === '~' || p.startsWith('~/') || p.startsWith('~\\'))) {
    return path.join(home, p.slice(1));
  }
  return p;
}

/** The `codekin` console script next to a Python interpreter (venv bin/ or Scripts\). */
export function scriptNextTo(python: string, platform: NodeJS.Platform = process.platform): string {
  const dir = path.dirname(python);
  return platform === 'win32' ? path.join(dir, 'codekin.exe') : path.join(dir, 'codekin');
}

/**
 * Order: the explicit `codekin.server.path`; else the selected interpreter when codekin is
 * installed in it (its `codekin` script, or `python -c <launch>`); else `codekin` on PATH;
 * else missing (the caller offers to install it — never silently).
 */
export async function locateServer(input: LocatorInput): Promise<Located> {
  const args = input.args.length ? input.args : ['serve'];
  const configured = expandHome(input.configuredPath.trim(), input.homeDir);
  if (configured) {
    const hasSep = configured.includes('/') || configured.includes('\\');
    if (!hasSep) {
      const found = await input.which(configured);
      if (found) {
        return { source: 'setting', command: found, args };
      }
      return { source: 'missing', reason: `codekin.server.path: "${configured}" is not on PATH` };
    }
    if (await input.fileExists(configured)) {
      return { source: 'setting', command: configured, args };
    }
    return { source: 'missing', reason: `codekin.server.path: ${configured} does not exist` };
  }
  if (input.interpreter) {
    const script = scriptNextTo(input.interpreter, input.platform);
    if (await input.fileExists(script)) {
      return { source: 'interpreter', command: script, args, interpreter: input.interpreter };
    }
    if (await input.interpreterHasCodekin(input.interpreter)) {
      return {
        source: 'interpreter',
        command: input.interpreter,
        args: ['-c', PYTHON_LAUNCH, ...args],
        interpreter: input.interpreter,
      };
    }
  }
  const onPath = await input.which(input.platform === 'win32' ? 'codekin.exe' : 'codekin');
  if (onPath) {
    return { source: 'path', command: onPath, args };
  }
  return {
    source: 'missing',
    interpreter: input.interpreter,
    reason: input.interpreter
      ? `codekin is not installed in the selected interpreter (${input.interpreter}) and not on PATH`
      : 'no codekin.server.path, no Python interpreter with codekin, and no codekin on PATH',
  };
}

/** A `which` over a PATH string. */
export async function whichIn(
  name: string,
  pathEnv: string | undefined,
  fileExists: (p: string) => Promise<boolean>,
  delimiter: string = path.delimiter,
): Promise<string | undefined> {
  for (const dir of (pathEnv ?? '').split(delimiter)) {
    if (!dir) {
      continue;
    }
    const candidate = path.join(dir, name);
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
