// The 60-second fault and soak run (tools/soak.mjs, soak/): the built server under PM2 killed with
// SIGKILL at random moments while clients edit, disconnect and read slowly, then a disk-full run
// on a tmpfs. Its JSON report (the last line of its output) must show nothing lost.
import { spawn } from 'node:child_process';
import { join } from 'node:path';

const root = join(__dirname, '..', '..', '..');

interface SoakJson {
  ok: boolean;
  kills: number;
  editsLost: number;
  converged: boolean;
  textFilesMatchClients: boolean;
  acknowledgedEditsChecked: number;
  error7Refusals: number;
  diskFullEpisodes: number;
  diskFullSkipped?: string;
  diskAudits: { ackedMissingFromDisk: number };
  unacknowledgedTokensMissing: number;
  duplicatedTokens: number;
  problems: string[];
}

function runSoak(seconds: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(root, 'tools', 'soak.mjs'), '--seconds', String(seconds), '--json'], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    // Bounded: the soak stops itself well before this; SIGINT lets it clean up (PM2, tmpfs).
    const timer = setTimeout(() => child.kill('SIGINT'), 140_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

it('loses no acknowledged edit through kills, disconnects, slow readers and a full disk (60 s soak)', async () => {
  const { code, stdout, stderr } = await runSoak(60);
  const output = stdout.trimEnd();
  const last = output.slice(output.lastIndexOf('\n') + 1);
  let report: SoakJson;
  try {
    report = JSON.parse(last) as SoakJson;
  } catch {
    throw new Error(`the soak printed no JSON report (exit ${code}):\n${stdout.slice(-4000)}\n${stderr.slice(-4000)}`);
  }
  const failures: string[] = [];
  const check = (ok: boolean, what: string) => ok || failures.push(what);
  check(report.editsLost === 0, `edits lost: ${report.editsLost}`);
  check(report.acknowledgedEditsChecked > 100, `only ${report.acknowledgedEditsChecked} acknowledged edits checked`);
  check(report.converged, 'the clients did not converge');
  check(report.textFilesMatchClients, 'NAME.txt differs from the clients');
  check(report.unacknowledgedTokensMissing === 0, `${report.unacknowledgedTokensMissing} unacknowledged tokens missing`);
  check(report.duplicatedTokens === 0, `${report.duplicatedTokens} duplicated tokens`);
  check(report.kills >= 1, 'no kill happened');
  if (report.diskFullSkipped) {
    check(
      /^disk-full run skipped: cannot mount a tmpfs \(needs root\)/.test(report.diskFullSkipped),
      `disk-full run: ${report.diskFullSkipped}`,
    );
  } else {
    check(report.diskFullEpisodes >= 1, 'no disk-full episode');
    check(report.error7Refusals >= 1, 'no ERROR 7 while the disk was full');
  }
  // Every token acknowledged was in the server's files when they were read (soak/disk-audit.ts).
  check(
    report.diskAudits.ackedMissingFromDisk === 0,
    `${report.diskAudits.ackedMissingFromDisk} acknowledged tokens were not on disk when audited`,
  );
  check(code === 0, `the soak exited with ${code}`);
  // The printed table and its list of problems say what happened.
  if (failures.length) throw new Error(`${failures.join('; ')}\n${output.slice(0, output.length - last.length)}`);
}, 150_000);
