import { execFile, execFileSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Debian's PostgreSQL 15 and PgBouncer (`.ci/run` installs them). */
export const PG_BIN = process.env.TOPOLOGY_PG_BIN ?? '/usr/lib/postgresql/15/bin';
export const PGBOUNCER = process.env.TOPOLOGY_PGBOUNCER ?? '/usr/sbin/pgbouncer';
/** PostgreSQL and PgBouncer refuse to run as root: they run as this user. */
const RUN_AS = 'postgres';

/** Why the topology cannot be built on this machine, or null when it can. */
export function missingBinaries(): string | null {
  const needed = [path.join(PG_BIN, 'initdb'), path.join(PG_BIN, 'pg_basebackup'), PGBOUNCER];
  const missing = needed.filter((file) => !existsSync(file));
  if (missing.length) return `missing ${missing.join(', ')} (apt-get install postgresql-15 pgbouncer)`;
  return null;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Runs `command` as the postgres user when this process is root (CI), as this user otherwise. */
function asPostgres(command: string, args: string[]): [string, string[]] {
  return process.getuid?.() === 0 ? ['runuser', ['-u', RUN_AS, '--', command, ...args]] : [command, args];
}

export async function runAsPostgres(command: string, args: string[]): Promise<string> {
  const [file, argv] = asPostgres(command, args);
  const { stdout } = await run(file, argv, { maxBuffer: 16 * 1024 * 1024 });
  return stdout;
}

/** The cluster's scratch directory: world-traversable, owned by the postgres user. */
export function scratchDirectory(): string {
  const dir = mkdtempSync('/tmp/platform-topology-');
  chmodSync(dir, 0o755);
  if (process.getuid?.() === 0) {
    const uid = Number(execFileSyncId('-u'));
    const gid = Number(execFileSyncId('-g'));
    chownSync(dir, uid, gid);
  }
  return dir;
}

function execFileSyncId(flag: string): string {
  return execFileSync('id', [flag, RUN_AS]).toString().trim();
}

export function removeScratch(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** One PostgreSQL server of the topology (the primary, or a streaming replica made by pg_basebackup). */
export class PostgresNode {
  constructor(
    readonly dataDir: string,
    readonly port: number,
    private readonly socketDir: string,
  ) {}

  url(database = 'platform'): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${database}`;
  }

  static async primary(dir: string, port: number): Promise<PostgresNode> {
    const node = new PostgresNode(path.join(dir, 'primary'), port, dir);
    await runAsPostgres(path.join(PG_BIN, 'initdb'), [
      '-D',
      node.dataDir,
      '-U',
      'postgres',
      '--auth=trust',
      '-E',
      'UTF8',
    ]);
    await node.start();
    return node;
  }

  /** A streaming replica of `primary`, by pg_basebackup (-R writes standby.signal and the connection). */
  static async replicaOf(primary: PostgresNode, dir: string, port: number): Promise<PostgresNode> {
    const node = new PostgresNode(path.join(dir, 'replica'), port, dir);
    await runAsPostgres(path.join(PG_BIN, 'pg_basebackup'), [
      ...['-h', '127.0.0.1', '-p', String(primary.port), '-U', 'postgres'],
      ...['-D', node.dataDir, '-R', '-X', 'stream', '-c', 'fast'],
    ]);
    await node.start();
    return node;
  }

  async start(): Promise<void> {
    const options = `-p ${this.port} -k ${this.socketDir} -c listen_addresses=127.0.0.1 -c max_connections=200`;
    await runAsPostgres(path.join(PG_BIN, 'pg_ctl'), [
      ...['-D', this.dataDir, '-o', options],
      ...['-l', `${this.dataDir}.log`, '-w', 'start'],
    ]);
  }

  async stop(): Promise<void> {
    await runAsPostgres(path.join(PG_BIN, 'pg_ctl'), ['-D', this.dataDir, '-m', 'fast', '-w', 'stop']);
  }
}

/** PgBouncer 1.18 in transaction mode in front of `primary`, trusting the loopback. */
export class PgBouncer {
  private pidFile = '';

  constructor(readonly port: number) {}

  url(database = 'platform'): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${database}`;
  }

  /** `server`: where PostgreSQL listens on the loopback, and the password PgBouncer logs in with (none: trust). */
  async start(dir: string, server: { port: number; user?: string; password?: string }): Promise<void> {
    const config = path.join(dir, 'pgbouncer.ini');
    const users = path.join(dir, 'userlist.txt');
    this.pidFile = path.join(dir, 'pgbouncer.pid');
    writeFileSync(users, `"${server.user ?? 'postgres'}" "${server.password ?? ''}"\n`);
    const settings = [
      '[databases]',
      `platform = host=127.0.0.1 port=${server.port} dbname=platform`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${this.port}`,
      'unix_socket_dir =',
      'auth_type = trust',
      `auth_file = ${users}`,
      'pool_mode = transaction',
      'max_client_conn = 500',
      'default_pool_size = 40',
      `logfile = ${path.join(dir, 'pgbouncer.log')}`,
      `pidfile = ${this.pidFile}`,
    ];
    writeFileSync(config, `${settings.join('\n')}\n`);
    chmodSync(config, 0o644);
    chmodSync(users, 0o600);
    if (process.getuid?.() === 0) chownSync(users, Number(execFileSyncId('-u')), Number(execFileSyncId('-g')));
    await runAsPostgres(PGBOUNCER, ['-d', config]);
    await waitForPort(this.port);
  }

  async stop(): Promise<void> {
    if (!this.pidFile || !existsSync(this.pidFile)) return;
    const pid = Number(readFileSync(this.pidFile, 'utf8').trim());
    try {
      process.kill(pid, 'SIGINT');
    } catch {
      return;
    }
    for (let i = 0; i < 50 && existsSync(this.pidFile); i += 1) await new Promise((r) => setTimeout(r, 100));
  }
}

export async function waitForPort(port: number, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.end();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on port ${port}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
