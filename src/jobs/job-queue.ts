import PgBoss from 'pg-boss';
import type { Logger } from 'pino';
import type { EntityManager } from 'typeorm';
import type { JobsConfig } from '../config';
import { JOB, SCHEDULES, type EnqueueOptions, type JobEnqueuer, type JobName, type JobPayloads } from '../request/jobs';

/** How often an idle worker asks for work. */
const POLL_SECONDS = 2;

/**
 * Queues whose worker asks again at once after a job, rather than at its next poll: pg-boss
 * fetches once per poll, and a burst of mail (invitations, sign-ups) would leave one per poll.
 */
const DRAINED_AT_ONCE = new Set<JobName>([JOB.sendMail, JOB.passwordResetMail]);

/**
 * Processes that start together create the same queues at once, and pg-boss's statements can then
 * deadlock (PostgreSQL aborts one of them): the loser tries again, and finds the queue there.
 */
async function retryingDeadlocks(work: () => Promise<unknown>, attempts = 5): Promise<void> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      await work();
      return;
    } catch (error) {
      if ((error as { code?: string }).code !== '40P01' || attempt >= attempts) throw error;
      await new Promise((resolve) => setTimeout(resolve, 50 + Math.random() * 200));
    }
  }
}

/** pg-boss keeps its tables in a schema of its own, created and upgraded by pg-boss at start under its own lock. */
export const JOB_SCHEMA = 'pgboss';

type QueueSettings = Omit<PgBoss.Queue, 'name'>;

/** How each queue retries: a lifecycle step as the provisioner settings say, the rest a few times. */
function queueSettings(config: JobsConfig): Record<JobName, QueueSettings> {
  const step: QueueSettings = {
    // One step of a project at a time: a second one waits for the first to end.
    policy: 'singleton',
    retryLimit: config.provisioner.maxAttempts - 1,
    retryDelay: Math.ceil(config.provisioner.retryBaseMs / 1000),
    retryBackoff: true,
    expireInSeconds: Math.ceil((config.provisioner.timeoutMs * 2) / 1000) + 60,
  };
  const scheduled: QueueSettings = { policy: 'singleton', retryLimit: 2, retryDelay: 30, retryBackoff: true };
  return {
    [JOB.projectStep]: step,
    [JOB.organizationPurge]: { ...step, retryLimit: Math.max(step.retryLimit ?? 0, 10) },
    [JOB.sweep]: { ...scheduled, retryLimit: 0 },
    [JOB.purgeDue]: scheduled,
    [JOB.closePeriods]: scheduled,
    [JOB.expireInvitations]: scheduled,
    // A retry charges cards: a failed run is left to the next hour rather than run again at once.
    [JOB.collectPayments]: { ...scheduled, retryLimit: 0 },
    // A mail server that is down delays mail: it is tried again, each wait twice the one before.
    [JOB.sendMail]: {
      retryLimit: config.mail.maxAttempts - 1,
      retryDelay: config.mail.retryBaseSeconds,
      retryBackoff: true,
    },
    [JOB.passwordResetMail]: { retryLimit: 3, retryDelay: 5, retryBackoff: true },
    [JOB.auditRetention]: scheduled,
    // Each attempt enqueues the next itself (WEBHOOK_RETRY_BASE_MS); pg-boss retries only a crashed one.
    [JOB.webhookDelivery]: { retryLimit: 2, retryDelay: 5, retryBackoff: true, expireInSeconds: 60 },
  };
}

/** A running job, as its handler sees it. */
export interface RunningJob<T> {
  id: string;
  name: JobName;
  data: T;
  /** 1 for the first attempt. */
  attempt: number;
  /** Whether a failure now is final. */
  lastAttempt: boolean;
}

export type JobHandlers = { [K in keyof JobPayloads]: (job: RunningJob<JobPayloads[K]>) => Promise<void> };

/**
 * The durable job queue: pg-boss on the platform's own PostgreSQL. Jobs are enqueued in the
 * transaction of the change that needs them (a rolled-back change enqueues nothing), retried with
 * exponential backoff up to a maximum number of attempts, and taken by one worker at a time with
 * SKIP LOCKED, so any number of replicas may run workers.
 */
export class JobQueue implements JobEnqueuer {
  private boss: PgBoss;
  private readonly makeBoss: () => PgBoss;
  private readonly settings: Record<JobName, QueueSettings>;
  private started = false;
  private readonly gaveUpListeners: ((name: JobName) => void)[] = [];
  /** This process's workers, by queue, to wake when a job is enqueued here. */
  private readonly workerIds = new Map<string, string[]>();

  constructor(
    connectionString: string,
    private readonly config: JobsConfig,
    private readonly log: Logger,
    options: { schedule: boolean; connectTimeoutMs?: number },
  ) {
    this.settings = queueSettings(config);
    // pg-boss hands its options to pg's Pool, connectionTimeoutMillis included, though its types do not list it.
    const pool = { connectionTimeoutMillis: options.connectTimeoutMs } as object;
    this.makeBoss = () => {
      const boss = new PgBoss({
        ...pool,
        connectionString,
        schema: JOB_SCHEMA,
        application_name: 'platform-api-jobs',
        max: 2,
        schedule: options.schedule,
        supervise: options.schedule,
        // A job's record stays a week after it ends, for `npm run jobs:status` and for the sweep.
        deleteAfterDays: 7,
      });
      boss.on('error', (error) => this.log.error({ err: error }, 'job queue error'));
      return boss;
    };
    this.boss = this.makeBoss();
  }

  /** Installs or upgrades pg-boss's schema, and creates the queues and their schedules. */
  async start(): Promise<void> {
    await this.startBoss();
    this.started = true;
    for (const [name, settings] of Object.entries(this.settings)) {
      await retryingDeadlocks(() => this.boss.createQueue(name, { name, ...settings }));
    }
    for (const { name, cron } of SCHEDULES) {
      await retryingDeadlocks(() => this.boss.schedule(name, cron, {}, { tz: 'UTC' }));
    }
  }

  /**
   * Processes that start together on a new database install pg-boss's schema at once, and its
   * advisory lock does not always keep the later one from colliding (a duplicate catalog entry, a
   * deadlock): that one starts over, on a fresh instance, and finds the schema installed.
   */
  private async startBoss(attempts = 5): Promise<void> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        await this.boss.start();
        return;
      } catch (error) {
        const code = (error as { code?: string }).code;
        if ((code !== '23505' && code !== '40P01') || attempt >= attempts) throw error;
        await this.boss.stop({ graceful: false, wait: true }).catch(() => undefined);
        this.boss = this.makeBoss();
        await new Promise((resolve) => setTimeout(resolve, 50 + Math.random() * 200));
      }
    }
  }

  /** Enqueues a job in the transaction `tx`: it exists once, and only if, that transaction commits. */
  async enqueue<K extends keyof JobPayloads>(
    tx: EntityManager,
    name: K,
    data: JobPayloads[K],
    options: EnqueueOptions = {},
  ): Promise<string | null> {
    const db = { executeSql: (text: string, values: unknown[]) => queryRecords(tx, text, values) };
    const id = await this.boss.send(name, data as object, { ...this.settings[name], ...options, db });
    this.log.info({ job: name, jobId: id, requestId: data.requestId, ...brief(data) }, 'job enqueued');
    return id;
  }

  /** Enqueues outside any transaction (scheduled work and commands). */
  async send<K extends keyof JobPayloads>(
    name: K,
    data: JobPayloads[K],
    singletonKey?: string,
  ): Promise<string | null> {
    const id = await this.boss.send(name, data as object, { ...this.settings[name], singletonKey });
    this.log.info({ job: name, jobId: id, ...brief(data) }, 'job enqueued');
    this.nudge(name);
    return id;
  }

  /** Runs the handlers in this process: `concurrency` at once for lifecycle steps, one at a time for the rest. */
  async work(handlers: JobHandlers): Promise<void> {
    for (const name of Object.keys(handlers) as (keyof JobPayloads)[]) {
      const workers = name === JOB.projectStep ? this.config.concurrency : 1;
      for (let i = 0; i < workers; i += 1) {
        // Jobs enqueued by this process wake its workers at once (nudge); the poll finds the others'.
        const id = await this.boss.work(name, { includeMetadata: true, pollingIntervalSeconds: POLL_SECONDS }, (jobs) =>
          this.run(name, jobs, handlers[name] as (job: RunningJob<unknown>) => Promise<void>),
        );
        this.workerIds.set(name, [...(this.workerIds.get(name) ?? []), id]);
      }
    }
  }

  /** Called with the job's name each time a job fails for good (for metrics). */
  onGaveUp(listener: (name: JobName) => void): void {
    this.gaveUpListeners.push(listener);
  }

  /** Jobs waiting to run (or to be retried), in all queues. */
  async waiting(): Promise<number> {
    let total = 0;
    for (const name of Object.keys(this.settings)) total += await this.boss.getQueueSize(name);
    return total;
  }

  nudge(name: keyof JobPayloads): void {
    // One idle worker is enough for one job; the others poll as usual.
    const [first] = this.workerIds.get(name) ?? [];
    if (first) this.boss.notifyWorker(first);
  }

  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    await this.boss.stop({ graceful: true, timeout: 10_000, wait: true });
  }

  private async run(
    name: JobName,
    jobs: PgBoss.JobWithMetadata<unknown>[],
    handler: (job: RunningJob<unknown>) => Promise<void>,
  ) {
    for (const job of jobs) {
      const running: RunningJob<unknown> = {
        id: job.id,
        name,
        data: job.data,
        attempt: job.retryCount + 1,
        lastAttempt: job.retryCount >= job.retryLimit,
      };
      const fields = {
        job: name,
        jobId: job.id,
        attempt: running.attempt,
        requestId: (job.data as { requestId?: string }).requestId,
      };
      this.log.info(fields, 'job started');
      try {
        await handler(running);
        this.log.info(fields, 'job done');
        if (DRAINED_AT_ONCE.has(name)) this.nudge(name);
      } catch (error) {
        if (running.lastAttempt) for (const listener of this.gaveUpListeners) listener(name);
        this.log[running.lastAttempt ? 'error' : 'warn'](
          { ...fields, err: error },
          running.lastAttempt ? 'job gave up' : 'job failed, will retry',
        );
        throw error;
      }
    }
  }
}

/** A statement's rows through a TypeORM transaction, as pg-boss asks of a connection. */
async function queryRecords(tx: EntityManager, text: string, values: unknown[]): Promise<{ rows: unknown[] }> {
  const runner = tx.queryRunner;
  if (!runner) throw new Error('A job is enqueued inside a transaction');
  const result = await runner.query(text, values, true);
  return { rows: result.records as unknown[] };
}

/** What identifies a job's subject in the log, without anything secret. */
function brief(data: object): Record<string, unknown> {
  const { projectId, organizationId, step, asOf } = data as Record<string, unknown>;
  return { projectId, organizationId, step, asOf };
}
