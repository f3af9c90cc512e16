// PM2 process file: `npx pm2 start ecosystem.config.js` runs the servers built by `npm ci`
// (dist/apps/*/main.js). Each server calls process.send('ready') once it listens (wait_ready),
// and shuts down cleanly on SIGINT within kill_timeout. Settings come from the environment
// (ECHO_PORT, COLLAB_PORT, ...), so PM2 and tests can move them without editing this file.
const path = require('node:path');
const os = require('node:os');

/**
 * Every variable of this environment whose name starts with `prefix`, plus LOG_LEVEL: each
 * server reads all of its settings from such variables, so a new option needs no change
 * here. Unset ones are left out, so each server's own defaults apply. Listing them in `env`
 * matters for `pm2 restart ecosystem.config.js`, which updates only what `env` names.
 */
function settingsFromEnvironment(prefix) {
  return Object.fromEntries(Object.entries(process.env).filter(([name]) => name === 'LOG_LEVEL' || name.startsWith(prefix)));
}

/**
 * Node's arguments for collab-server (the bench reads them from its app here, to start it the same way):
 * - a young generation of 8 MiB (two semi-spaces of 4) instead of up to 32 MiB: about 20 MiB less
 *   peak RSS under a steady stream of edits, at the same CPU;
 * - no more V8 helper threads (parallel scavenges, concurrent marking, compiling) than cores,
 *   at least 2 (Node starts 4 whatever the machine): on 2 cores, about 3% less CPU per edit on
 *   average over six alternating A/B runs (0.90-1.06x; 1 thread: 1.06x of 2); unchanged from 4 cores up.
 */
const COLLAB_NODE_ARGS = ['--max-semi-space-size=4', `--v8-pool-size=${Math.min(4, Math.max(2, os.availableParallelism()))}`];
/**
 * glibc's malloc, tuned by its environment variables (each kept when already set):
 * - MALLOC_ARENA_MAX: glibc gives each thread that allocates its own arena, and V8's compiler and
 *   GC threads and libuv's file-system threads all do: with 100 clients that left about 7 MiB of
 *   RSS in half-empty arenas. Two arenas cost no measurable CPU.
 * - MALLOC_MMAP_THRESHOLD_ / MALLOC_TRIM_THRESHOLD_: blocks of 32 KiB and more (the text file's
 *   bytes, a read of it, a large message) are mapped apart and returned when freed, and free
 *   memory at the top of the heap goes back past 64 KiB. By default glibc raises its threshold to
 *   the largest block freed so far, and such blocks then stay in the heap between smaller live
 *   ones: 10 clients left the heap 3-4 MiB larger. At 2,000 edits/s that maps about 20 blocks a
 *   second, at no CPU difference we could measure.
 * The bench starts the server with these too.
 */
const COLLAB_PROCESS_ENV = {
  MALLOC_ARENA_MAX: process.env.MALLOC_ARENA_MAX || '2',
  MALLOC_MMAP_THRESHOLD_: process.env.MALLOC_MMAP_THRESHOLD_ || '32768',
  MALLOC_TRIM_THRESHOLD_: process.env.MALLOC_TRIM_THRESHOLD_ || '65536',
};

/** What both servers share. */
const daemon = {
  instances: 1,
  exec_mode: 'fork',
  autorestart: true,
  // Exit 2 means the server cannot start as configured (bad usage, port taken, data
  // directory locked): restarting cannot help, so PM2 leaves it stopped and the reason is
  // the last line of `pm2 logs`. A crash (any other code) is restarted.
  stop_exit_codes: [2],
  // No restart_delay: with one, PM2 7 shows an app that exited with a stop code as
  // "waiting restart" for ever (God.handleExit sets that status before checking stop codes).
  wait_ready: true,
  listen_timeout: 10000,
  // A server that keeps crashing within 2 s of its start is given up after 50 tries (errored).
  max_restarts: 50,
  min_uptime: 2000,
  // Every line in PM2's logs starts with when it was written.
  log_date_format: 'YYYY-MM-DDTHH:mm:ss.SSSZ',
};

/**
 * With Redis (COLLAB_REDIS_URL) no instance holds a document alone: every edit goes through Redis,
 * and the lease holder of each document writes its files. So collab-server runs in PM2's cluster
 * mode, COLLAB_INSTANCES processes (default 2; "max": one per core) on one port: the cluster's
 * master accepts each connection and hands it to the next instance in turn (round robin, no
 * stickiness), and a client whose instance died reconnects to the same port and lands on a live one.
 */
function collabInstances() {
  if (!process.env.COLLAB_REDIS_URL) return { instances: 1, exec_mode: 'fork' };
  const wanted = process.env.COLLAB_INSTANCES || '2';
  return { instances: wanted === 'max' ? 'max' : Number(wanted), exec_mode: 'cluster' };
}

module.exports = {
  apps: [
    {
      ...daemon,
      name: 'collab-server',
      ...collabInstances(),
      script: path.join(__dirname, 'dist/apps/collab-server/main.js'),
      // The data directory is the working directory: temp.txt lands here, as in the assignment.
      cwd: process.env.COLLAB_CWD || __dirname,
      // Shutdown flushes and fsyncs every document; it takes well under this.
      kill_timeout: 8000,
      // V8's young generation grows to 32 MiB under a steady stream of edits (each one allocates
      // a little and dies young); capped at 8 MiB the server's peak RSS is about 20 MiB lower at
      // the same CPU (npm run bench collab starts the server with these same arguments).
      node_args: COLLAB_NODE_ARGS,
      env: { ...COLLAB_PROCESS_ENV, ...settingsFromEnvironment('COLLAB_') },
    },
    {
      ...daemon,
      name: 'echo-server',
      script: path.join(__dirname, 'dist/apps/echo-server/main.js'),
      cwd: process.env.ECHO_CWD || __dirname,
      kill_timeout: 5000,
      env: settingsFromEnvironment('ECHO_'),
    },
  ],
};
