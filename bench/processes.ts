import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';

export interface ServerProcess {
  name: string;
  child: ChildProcess;
  pid: number;
  /** The last lines it wrote, for the message when it fails. */
  output: string[];
  /** Resolves with the exit code (or signal) once it has exited. */
  exited: Promise<string>;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function spawnServer(
  name: string,
  command: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  onLine?: (line: string) => void,
): ServerProcess {
  const child = spawn(command, args, { env, cwd: process.cwd(), stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.pid === undefined) throw new Error(`${name} did not start`);
  const output: string[] = [];
  const record = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (!line.trim()) continue;
      output.push(line);
      if (output.length > 40) output.shift();
      onLine?.(line);
    }
  };
  child.stdout?.on('data', record);
  child.stderr?.on('data', record);
  const exited = new Promise<string>((resolve) =>
    child.once('exit', (code, signal) => resolve(signal ? `signal ${signal}` : `code ${code}`)),
  );
  return { name, child, pid: child.pid, output, exited };
}

/** Polls `url` until it answers 200; fails when the process exits first or after `timeoutMs`. */
export async function waitForHttp(
  server: ServerProcess,
  url: string,
  timeoutMs: number,
  init: RequestInit = {},
  everyMs = 10,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exit: string | undefined;
  void server.exited.then((how) => (exit = how));
  while (Date.now() < deadline) {
    if (exit) throw new Error(`${server.name} exited (${exit}) before it was ready:\n${server.output.join('\n')}`);
    try {
      const response = await fetch(url, { ...init, signal: AbortSignal.timeout(1000) });
      await response.arrayBuffer();
      if (response.status === 200) return;
    } catch {
      // Not listening yet.
    }
    await sleep(everyMs);
  }
  throw new Error(`${server.name} was not ready within ${timeoutMs} ms:\n${server.output.join('\n')}`);
}

/** SIGTERM, then SIGKILL after `graceMs`. */
export async function stopServer(server: ServerProcess, graceMs = 20_000): Promise<string> {
  if (server.child.exitCode !== null || server.child.signalCode !== null) return server.exited;
  server.child.kill('SIGTERM');
  const timer = setTimeout(() => server.child.kill('SIGKILL'), graceMs);
  try {
    return await server.exited;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * A PostgreSQL postmaster left running in `pgdata` (its parent was killed before stopping it) is
 * asked to shut down, so that the benchmark leaves nothing behind.
 */
export async function stopLeftoverPostgres(pgdata: string): Promise<boolean> {
  const pidFile = path.join(pgdata, 'postmaster.pid');
  if (!existsSync(pidFile)) return false;
  const pid = Number(readFileSync(pidFile, 'utf8').split('\n')[0]);
  if (!Number.isInteger(pid) || pid <= 1) return false;
  try {
    process.kill(pid, 'SIGINT');
  } catch {
    return false;
  }
  for (let i = 0; i < 100 && existsSync(pidFile); i += 1) await sleep(100);
  return true;
}

export interface Memory {
  /** Resident set size now, in MiB. */
  rssMb: number;
  /** The peak resident set size of the process so far (VmHWM), in MiB. */
  peakMb: number;
}

export function memoryOf(pid: number): Memory | null {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8');
  } catch {
    return null;
  }
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rssMb: kb('VmRSS') / 1024, peakMb: kb('VmHWM') / 1024 };
}

/** Samples a process's RSS every `everyMs` until stopped. */
export function sampleMemory(pid: number, everyMs: number) {
  const samples: { atMs: number; rssMb: number }[] = [];
  const started = Date.now();
  const take = () => {
    const memory = memoryOf(pid);
    if (memory) samples.push({ atMs: Date.now() - started, rssMb: memory.rssMb });
  };
  take();
  const timer = setInterval(take, everyMs);
  return {
    samples,
    stop(): { maxMb: number; samples: { atMs: number; rssMb: number }[] } {
      clearInterval(timer);
      take();
      return { maxMb: Math.max(...samples.map((s) => s.rssMb)), samples };
    },
  };
}
