import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from '../test/support/ports';
import { projectNode, serverNodeFlags } from './machine';
import { cpuSnapshot, foreignShare, waitForQuiet } from './machine-load';
import { spawnServer, stopLeftoverPostgres, stopServer, waitForHttp, type ServerProcess } from './processes';

export interface StartupTime {
  /** From spawning `node dist/src/main.js` to the first 200 from /healthz (polled every 10 ms). */
  wallMs: number;
  /** What the server logs itself ("ready", from the start of main(), without Node's own start-up). */
  loggedMs: number | null;
  /** The share of the machine's CPU that other processes used meanwhile. */
  otherCpuShare: number;
}

export interface StartupTimes {
  fresh: StartupTime;
  /** Several starts on the data directory the fresh start left. */
  existing: StartupTime[];
}

const MAIN = path.join('dist', 'src', 'main.js');

async function startOnce(dataDir: string, onStart: (server: ServerProcess) => void): Promise<StartupTime> {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: 'development',
    DATA_DIR: dataDir,
    EMBEDDED_POSTGRES_PORT: String(await freePort()),
    PORT: String(await freePort()),
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
  };
  // The embedded default: no DATABASE_URL, and no secrets (generated into DATA_DIR on the first start).
  delete env.DATABASE_URL;
  delete env.AUTH_TOKEN_SECRET;
  delete env.ENCRYPTION_KEY;
  let loggedMs: number | null = null;
  const cpu = cpuSnapshot();
  const started = performance.now();
  const server = spawnServer('npm start (embedded)', projectNode(), [...serverNodeFlags(), MAIN], env, (line) => {
    if (!line.includes('ready at')) return;
    try {
      loggedMs = (JSON.parse(line) as { ms?: number }).ms ?? null;
    } catch {
      // Not a JSON log line.
    }
  });
  onStart(server);
  try {
    await waitForHttp(server, `http://127.0.0.1:${env.PORT}/healthz`, 60_000);
    const wallMs = performance.now() - started;
    const otherCpuShare = foreignShare(cpu, cpuSnapshot());
    // The log line is written just before /healthz answers; give it a moment to arrive.
    for (let i = 0; i < 50 && loggedMs === null; i += 1) await new Promise((resolve) => setTimeout(resolve, 10));
    return { wallMs, loggedMs, otherCpuShare };
  } finally {
    await stopServer(server);
    await stopLeftoverPostgres(path.join(dataDir, 'postgres', 'pgdata'));
  }
}

/**
 * `npm start` on the embedded default, without the compile step: once on a fresh data directory
 * (initdb, migrations, generated secrets), then `existingRuns` times on the directory it left.
 */
export async function measureStartup(
  existingRuns: number,
  quiet: { seconds: number; threshold: number },
  /** Called with a clean-up for an interrupted benchmark: it stops the server being started and removes the directory. */
  track: (cleanup: () => Promise<unknown>) => void,
): Promise<StartupTimes> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'platform-bench-start-'));
  let current: ServerProcess | undefined;
  const onStart = (server: ServerProcess) => (current = server);
  track(async () => {
    if (current) await stopServer(current);
    await stopLeftoverPostgres(path.join(dataDir, 'postgres', 'pgdata'));
    rmSync(dataDir, { recursive: true, force: true });
  });
  // As root, the cluster runs as the unprivileged postgres user, which must reach the directory.
  chmodSync(dataDir, 0o755);
  try {
    await waitForQuiet(quiet.seconds, quiet.threshold);
    const fresh = await startOnce(dataDir, onStart);
    const existing: StartupTime[] = [];
    for (let run = 0; run < existingRuns; run += 1) {
      await waitForQuiet(quiet.seconds, quiet.threshold);
      existing.push(await startOnce(dataDir, onStart));
    }
    return { fresh, existing };
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}
