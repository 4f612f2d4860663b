import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** What a pg pool tells of itself (pg's Pool has these). */
export interface PoolStats {
  totalCount: number;
  idleCount: number;
  waitingCount: number;
  options: { max?: number };
}

/**
 * The job queue's hook (src/server.ts wires it to the queue): how many jobs wait, read at each scrape, and each
 * failed run of a job, by its kind.
 */
export interface JobQueueMetrics {
  /** Gives the function that counts waiting jobs; the last one given is read at each scrape. */
  reportQueueDepth(read: () => number | Promise<number>): void;
  failed(kind: string): void;
}

/** What the server records. With METRICS_PORT unset every method does nothing. */
export interface ServerMetrics {
  /** The Prometheus registry, or null when metrics are off. */
  readonly registry: Registry | null;
  graphqlRequest(operation: string, outcome: string, seconds: number): void;
  httpResponse(route: string, status: number): void;
  authThrottled(operation: string): void;
  /** Gives the pools to report, read at each scrape (a pool not open yet is left out). */
  reportPools(read: () => Record<string, PoolStats | undefined>): void;
  /** A read-only operation was sent to a replica or to the primary (only with read replicas). */
  readRouted(target: 'replica' | 'primary'): void;
  /** Gives the read replicas' states, read at each scrape. */
  reportReplicas(read: () => ReplicaGauge[]): void;
  readonly jobs: JobQueueMetrics;
}

const ignore = () => undefined;

/** A read replica as the metrics show it. */
export interface ReplicaGauge {
  name: string;
  healthy: boolean;
  lagSeconds: number | null;
}

export const noMetrics: ServerMetrics = {
  registry: null,
  graphqlRequest: ignore,
  httpResponse: ignore,
  authThrottled: ignore,
  reportPools: ignore,
  readRouted: ignore,
  reportReplicas: ignore,
  jobs: { reportQueueDepth: ignore, failed: ignore },
};

/** Latency buckets in seconds, up to the 30 s a request may take. */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30];

function poolGauges(registry: Registry, read: () => Record<string, PoolStats | undefined>) {
  const each = (gauge: Gauge<string>, value: (stats: PoolStats) => number, labels: Record<string, string> = {}) => {
    for (const [pool, stats] of Object.entries(read())) if (stats) gauge.set({ pool, ...labels }, value(stats));
  };
  new Gauge({
    name: 'platform_api_database_pool_connections',
    help: 'Open connections of each database pool, in use by a request or idle',
    labelNames: ['pool', 'state'],
    registers: [registry],
    collect() {
      this.reset();
      each(this, (s) => s.totalCount - s.idleCount, { state: 'in_use' });
      each(this, (s) => s.idleCount, { state: 'idle' });
    },
  });
  new Gauge({
    name: 'platform_api_database_pool_waiting',
    help: 'Requests waiting for a connection of each database pool',
    labelNames: ['pool'],
    registers: [registry],
    collect() {
      this.reset();
      each(this, (s) => s.waitingCount);
    },
  });
  new Gauge({
    name: 'platform_api_database_pool_max',
    help: 'Most connections each database pool opens',
    labelNames: ['pool'],
    registers: [registry],
    collect() {
      this.reset();
      each(this, (s) => s.options.max ?? 10);
    },
  });
}

function jobMetrics(registry: Registry): JobQueueMetrics {
  let readDepth: (() => number | Promise<number>) | undefined;
  new Gauge({
    name: 'platform_api_jobs_queued',
    help: 'Jobs waiting to run',
    registers: [registry],
    async collect() {
      if (readDepth) this.set(await readDepth());
    },
  });
  const failures = new Counter({
    name: 'platform_api_job_failures_total',
    help: 'Failed runs of jobs, by kind',
    labelNames: ['kind'],
    registers: [registry],
  });
  return {
    reportQueueDepth: (read) => void (readDepth = read),
    failed: (kind) => failures.inc({ kind }),
  };
}

function replicaMetrics(registry: Registry): Pick<ServerMetrics, 'readRouted' | 'reportReplicas'> {
  const routed = new Counter({
    name: 'platform_api_read_routing_total',
    help: 'Read-only operations, by where their reads went (replica, or primary: recent writer or no healthy replica)',
    labelNames: ['target'],
    registers: [registry],
  });
  return {
    readRouted: (target) => routed.inc({ target }),
    reportReplicas(read) {
      new Gauge({
        name: 'platform_api_replica_healthy',
        help: 'Whether each read replica serves reads (1), or is skipped as down or lagging (0)',
        labelNames: ['replica'],
        registers: [registry],
        collect() {
          this.reset();
          for (const replica of read()) this.set({ replica: replica.name }, replica.healthy ? 1 : 0);
        },
      });
      new Gauge({
        name: 'platform_api_replica_lag_seconds',
        help: "Each read replica's replay lag behind the primary at the last check (absent while down)",
        labelNames: ['replica'],
        registers: [registry],
        collect() {
          this.reset();
          for (const replica of read())
            if (replica.lagSeconds !== null) this.set({ replica: replica.name }, replica.lagSeconds);
        },
      });
    },
  };
}

/** Prometheus metrics of one server, in a registry of its own, with Node's process metrics. */
export function prometheusMetrics(): ServerMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const requests = new Counter({
    name: 'platform_api_graphql_requests_total',
    help: 'GraphQL requests, by operation name and outcome (ok, or the first error code)',
    labelNames: ['operation', 'outcome'],
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'platform_api_graphql_request_duration_seconds',
    help: 'Time to answer a GraphQL request, by operation name',
    labelNames: ['operation'],
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const responses = new Counter({
    name: 'platform_api_http_responses_total',
    help: 'HTTP responses, by route and status code',
    labelNames: ['route', 'status'],
    registers: [registry],
  });
  const throttled = new Counter({
    name: 'platform_api_auth_throttled_total',
    help: 'Sign-up, log-in and invitation attempts refused RATE_LIMITED, by operation',
    labelNames: ['operation'],
    registers: [registry],
  });
  return {
    registry,
    graphqlRequest(operation, outcome, seconds) {
      requests.inc({ operation, outcome });
      latency.observe({ operation }, seconds);
    },
    httpResponse: (route, status) => responses.inc({ route, status: String(status) }),
    authThrottled: (operation) => throttled.inc({ operation }),
    reportPools: (read) => poolGauges(registry, read),
    ...replicaMetrics(registry),
    jobs: jobMetrics(registry),
  };
}
