// PM2 process file: `npx pm2 start ecosystem.config.js` runs the servers built by `npm ci`
// (dist/apps/*/main.js). Each server calls process.send('ready') once it listens (wait_ready),
// and shuts down cleanly on SIGINT within kill_timeout. Settings come from the environment
// (ECHO_PORT, COLLAB_PORT, ...), so PM2 and tests can move them without editing this file.
const path = require('node:path');

/** Only the variables that are set, so each server's own defaults apply otherwise. */
function pick(names) {
  return Object.fromEntries(names.filter((n) => process.env[n] !== undefined).map((n) => [n, process.env[n]]));
}

module.exports = {
  apps: [
    {
      name: 'collab-server',
      script: path.join(__dirname, 'dist/apps/collab-server/main.js'),
      // The data directory is the working directory: temp.txt lands here, as in the assignment.
      cwd: process.env.COLLAB_CWD || __dirname,
      instances: 1,
      exec_mode: 'fork',
      autorestart: true,
      wait_ready: true,
      listen_timeout: 10000,
      // Shutdown flushes and fsyncs every document; it takes well under this.
      kill_timeout: 8000,
      restart_delay: 200,
      max_restarts: 50,
      min_uptime: 2000,
      env: pick([
        'COLLAB_HOST',
        'COLLAB_PORT',
        'COLLAB_DATA_DIR',
        'COLLAB_MAX_CLIENTS',
        'COLLAB_MAX_FRAME',
        'COLLAB_IDLE_TIMEOUT',
        'COLLAB_TOKEN',
        'LOG_LEVEL',
      ]),
    },
    {
      name: 'echo-server',
      script: path.join(__dirname, 'dist/apps/echo-server/main.js'),
      cwd: process.env.ECHO_CWD || __dirname,
      instances: 1,
      exec_mode: 'fork',
      autorestart: true,
      wait_ready: true,
      listen_timeout: 10000,
      kill_timeout: 5000,
      restart_delay: 200,
      max_restarts: 50,
      min_uptime: 2000,
      env: pick(['ECHO_HOST', 'ECHO_PORT', 'ECHO_MAX_CONNECTIONS', 'ECHO_IDLE_TIMEOUT', 'LOG_LEVEL']),
    },
  ],
};
