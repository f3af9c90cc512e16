import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** Path of a built app; the Nx test target builds it first (`npm run build` by hand). */
export function builtApp(name: string): string {
  const path = join(__dirname, '..', '..', '..', 'dist', 'apps', name, 'main.js');
  if (!existsSync(path)) throw new Error(`${path} is missing: run "npm run build" first`);
  return path;
}

/** What a finished program printed and how it exited. */
export interface RunResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a built program with stdin from `input`, killing it after timeoutMs. */
export function runBuilt(name: string, args: string[], input = '', timeoutMs = 20_000, env: NodeJS.ProcessEnv = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [builtApp(name), ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.on('error', () => undefined); // the program may exit before reading it all
    child.stdin.end(input);
  });
}
