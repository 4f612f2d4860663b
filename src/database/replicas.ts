import { Pool } from 'pg';
import type { Logger } from 'pino';

/** How often each replica's lag is measured. */
const CHECK_EVERY_MS = 1000;

export interface ReplicaOptions {
  /** A replica further behind than this (or down) is skipped until it catches up. */
  maxLagSeconds: number;
  /** Connections of each replica's pool (DATABASE_READ_POOL_SIZE). */
  poolSize: number;
  connectTimeoutMs: number;
  /** Bound on a statement's wait (the server's statement timeout). */
  queryTimeoutMs: number;
  /** Generic plans for the named statements, as on the primary's read pool; off behind a pooler. */
  genericPlans: boolean;
}

/** One replica as the health check last saw it. */
export interface ReplicaState {
  /** host:port/database, never the password. */
  name: string;
  healthy: boolean;
  /** Seconds behind the primary; null while it cannot be measured (down). */
  lagSeconds: number | null;
}

interface Replica extends ReplicaState {
  pool: Pool;
}

function nameOf(url: string): string {
  const parsed = new URL(url);
  return `${parsed.hostname}:${parsed.port || '5432'}${parsed.pathname}`;
}

/**
 * The streaming replicas that serve read-only operations. Each is checked every second: its lag
 * is zero while it has replayed the primary's current WAL position, else the age of its last
 * replayed transaction. A replica that is down, or further behind than `maxLagSeconds`, is skipped
 * (the primary serves) until a check finds it caught up again.
 */
export class ReplicaSet {
  private readonly replicas: Replica[];
  private next = 0;
  private timer?: NodeJS.Timeout;
  private checking?: Promise<void>;

  constructor(
    urls: string[],
    private readonly primary: Pool,
    private readonly options: ReplicaOptions,
    private readonly log: Logger,
  ) {
    this.replicas = urls.map((url) => ({
      name: nameOf(url),
      healthy: false,
      lagSeconds: null,
      pool: this.poolFor(url),
    }));
  }

  /** Checks every replica once, then every second. */
  async start(): Promise<void> {
    await this.check();
    this.timer = setInterval(() => {
      this.checking ??= this.check().finally(() => (this.checking = undefined));
    }, CHECK_EVERY_MS);
    this.timer.unref();
  }

  /** A healthy replica's pool, in turn; undefined when none is healthy. */
  pick(): Pool | undefined {
    for (let i = 0; i < this.replicas.length; i += 1) {
      const replica = this.replicas[(this.next + i) % this.replicas.length];
      if (replica.healthy) {
        this.next = (this.next + i + 1) % this.replicas.length;
        return replica.pool;
      }
    }
    return undefined;
  }

  /** A statement on `pool` lost its connection: that replica is skipped until the next check finds it well. */
  lost(pool: Pool): void {
    const replica = this.replicas.find((r) => r.pool === pool);
    if (replica?.healthy) {
      replica.healthy = false;
      this.log.warn({ replica: replica.name }, 'read replica lost: reads go to the primary');
    }
  }

  states(): ReplicaState[] {
    return this.replicas.map(({ name, healthy, lagSeconds }) => ({ name, healthy, lagSeconds }));
  }

  pools(): Record<string, Pool> {
    return Object.fromEntries(this.replicas.map((r) => [`replica ${r.name}`, r.pool]));
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.checking;
    await Promise.all(this.replicas.map((r) => r.pool.end().catch(() => undefined)));
  }

  private poolFor(url: string): Pool {
    const { poolSize, connectTimeoutMs, queryTimeoutMs, genericPlans } = this.options;
    const pool = new Pool({
      connectionString: url,
      max: poolSize,
      connectionTimeoutMillis: connectTimeoutMs,
      query_timeout: queryTimeoutMs,
      application_name: 'platform-api-replica',
      options: genericPlans ? '-c plan_cache_mode=force_generic_plan' : undefined,
    });
    // As on the primary's read pool: a lost connection is reported by the connection, and dropped.
    pool.on('connect', (client) => client.on('error', () => undefined));
    pool.on('error', () => undefined);
    return pool;
  }

  private async check(): Promise<void> {
    const primaryLsn = await this.primary
      .query<{ lsn: string }>('SELECT pg_current_wal_lsn()::text AS lsn')
      .then((result) => result.rows[0].lsn)
      .catch(() => null);
    await Promise.all(this.replicas.map((replica) => this.checkOne(replica, primaryLsn)));
  }

  private async checkOne(replica: Replica, primaryLsn: string | null): Promise<void> {
    let lag: number | null;
    try {
      const { rows } = await replica.pool.query<{ caught_up: boolean | null; age: number | null }>(
        `SELECT NOT pg_is_in_recovery() OR pg_last_wal_replay_lsn() >= $1::pg_lsn AS caught_up,
                extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8 AS age`,
        [primaryLsn ?? '0/0'],
      );
      lag = rows[0].caught_up && primaryLsn ? 0 : rows[0].age;
    } catch {
      lag = null;
    }
    const healthy = lag !== null && lag <= this.options.maxLagSeconds;
    if (healthy !== replica.healthy) {
      this.log.info(
        { replica: replica.name, lagSeconds: lag },
        healthy ? 'read replica in use' : 'read replica skipped',
      );
    }
    replica.healthy = healthy;
    replica.lagSeconds = lag;
  }
}
