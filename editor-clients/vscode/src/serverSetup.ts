// Finding codekin in the user's Python environments, and offering (never forcing) an install.
import { execFile } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as vscode from 'vscode';
import { installCommand, locateServer, whichIn, type Located } from './serverLocator';

async function fileExists(p: string): Promise<boolean> {
  try {
    const st = await fs.promises.stat(p);
    return st.isFile();
  } catch {
    return false;
  }
}

/* The Python extension's API, as far as it is used here (ms-python.python, "environments"). */
interface PythonEnvironmentsApi {
  getActiveEnvironmentPath(resource?: vscode.Uri): { path: string };
  resolveEnvironment(env: { path: string } | string): Promise<{ executable: { uri?: vscode.Uri } } | undefined>;
  readonly known?: ReadonlyArray<{ path: string; executable?: { uri?: vscode.Uri } }>;
  onDidChangeActiveEnvironmentPath?: vscode.Event<unknown>;
}

async function pythonApi(): Promise<PythonEnvironmentsApi | undefined> {
  const ext = vscode.extensions.getExtension<{ environments?: PythonEnvironmentsApi }>('ms-python.python');
  if (!ext) {
    return undefined;
  }
  try {
    const api = ext.isActive ? ext.exports : await ext.activate();
    return api?.environments;
  } catch {
    return undefined;
  }
}

/** The interpreter selected in VS Code: the Python extension's, else python.defaultInterpreterPath. */
export async function selectedInterpreter(resource?: vscode.Uri): Promise<string | undefined> {
  const api = await pythonApi();
  if (api) {
    try {
      const active = api.getActiveEnvironmentPath(resource);
      const env = await api.resolveEnvironment(active);
      const exe = env?.executable?.uri?.fsPath;
      if (exe) {
        return exe;
      }
    } catch {
      // fall through to the setting
    }
  }
  const configured = vscode.workspace.getConfiguration('python', resource).get<string>('defaultInterpreterPath');
  if (configured && configured !== 'python' && configured !== 'python3') {
    return configured;
  }
  return undefined;
}

/** Subscribe to interpreter changes (when the Python extension is there). */
export async function onInterpreterChange(listener: () => void): Promise<vscode.Disposable | undefined> {
  const api = await pythonApi();
  return api?.onDidChangeActiveEnvironmentPath?.(listener);
}

/** Whether `command ...args` exits 0 within 30 s (a Python probe; never through a shell). */
export function runs(command: string, args: string[]): Promise<boolean> {
  return new Promise((resolve) => {
    execFile(command, args, { timeout: 30000, windowsHide: true }, (err) => resolve(!err));
  });
}

/** Where the server is, per the extension's settings and the environment. */
export async function findServer(resource?: vscode.Uri): Promise<Located> {
  const cfg = vscode.workspace.getConfiguration('codekin', resource);
  return locateServer({
    configuredPath: cfg.get<string>('server.path', ''),
    args: cfg.get<string[]>('server.args', ['serve']),
    interpreter: await selectedInterpreter(resource),
    workspaceFolders: (vscode.workspace.workspaceFolders ?? []).map((f) => f.uri.fsPath),
    homeDir: os.homedir(),
    fileExists,
    runs,
    which: (name) => whichIn(name, process.env.PATH, fileExists),
  });
}

/** Ask the user for an interpreter to install codekin into. */
async function pickInterpreter(suggested?: string): Promise<string | undefined> {
  type Row = vscode.QuickPickItem & { python?: string; browse?: boolean };
  const rows: Row[] = [];
  const seen = new Set<string>();
  const add = (python: string | undefined, description: string) => {
    if (python && !seen.has(python)) {
      seen.add(python);
      rows.push({ label: python, description, python });
    }
  };
  add(suggested, 'selected interpreter');
  const api = await pythonApi();
  for (const env of api?.known ?? []) {
    add(env.executable?.uri?.fsPath, 'Python environment');
  }
  rows.push({ label: '$(folder) Browse for a Python interpreter…', browse: true });
  const choice = await vscode.window.showQuickPick(rows, {
    title: 'Codekin: install the server into which Python interpreter?',
    placeHolder: 'codekin is installed with pip into the interpreter you pick',
  });
  if (!choice) {
    return undefined;
  }
  if (choice.browse) {
    const picked = await vscode.window.showOpenDialog({ canSelectMany: false, title: 'Python interpreter' });
    return picked?.[0]?.fsPath;
  }
  return choice.python;
}

/**
 * Install codekin into an interpreter the user picks, after they confirm the exact command; it
 * runs as a visible task. Resolves true when pip exited 0.
 */
export async function installServer(suggested?: string): Promise<boolean> {
  const python = await pickInterpreter(suggested);
  if (!python) {
    return false;
  }
  const { command, args } = installCommand(python);
  const shown = [command, ...args].join(' ');
  const ok = await vscode.window.showInformationMessage(
    `Install codekin with "${shown}"?`,
    { modal: true, detail: 'This downloads codekin and its dependencies (PyTorch among them) from your package index.' },
    'Install',
  );
  if (ok !== 'Install') {
    return false;
  }
  const task = new vscode.Task(
    { type: 'process', id: 'codekin-install' },
    vscode.TaskScope.Workspace,
    'install codekin',
    'codekin',
    new vscode.ProcessExecution(command, args),
  );
  task.presentationOptions = { reveal: vscode.TaskRevealKind.Always, panel: vscode.TaskPanelKind.Dedicated };
  const execution = await vscode.tasks.executeTask(task);
  return new Promise<boolean>((resolve) => {
    const sub = vscode.tasks.onDidEndTaskProcess((e) => {
      if (e.execution === execution) {
        sub.dispose();
        resolve(e.exitCode === 0);
      }
    });
  });
}
