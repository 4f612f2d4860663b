import { Client } from 'pg';
import type { Logger } from 'pino';

/** How long to wait before listening again after the connection was lost. */
const RECONNECT_DELAY_MS = 1000;
/** Payloads of the listener's own heartbeats, which no handler hears. */
const HEARTBEAT_PREFIX = 'heartbeat:';

export interface HeartbeatTiming {
  /** How often the listener notifies itself on its channel. */
  everyMs: number;
  /** How long it waits to hear that notification before it takes the connection for lost. */
  timeoutMs: number;
}

const HEARTBEAT: HeartbeatTiming = { everyMs: 15_000, timeoutMs: 5000 };

export interface NotificationHandlers {
  /** Listening (again): nothing said while not listening was heard. */
  ready(): void;
  message(payload: string): void;
  /** The connection is gone: until `ready`, notifications may be missed. */
  lost(): void;
}

export interface NotificationListener {
  close(): Promise<void>;
}

/**
 * The listener's own heartbeat on a listening connection: every `timing.everyMs` it notifies its
 * channel and calls `dead` unless that notification is heard within `timing.timeoutMs`.
 */
function heartbeatOn(
  listening: Client,
  channel: string,
  timing: HeartbeatTiming,
  dead: (error: Error) => void,
): { heard(payload: string): boolean; stop(): void } {
  let awaited: { payload: string; deadline: NodeJS.Timeout } | undefined;
  let sent = 0;
  const beats = setInterval(() => {
    if (awaited) return;
    const payload = `${HEARTBEAT_PREFIX}${process.pid}:${(sent += 1)}`;
    const deadline = setTimeout(
      () => dead(new Error(`no heartbeat heard within ${timing.timeoutMs} ms`)),
      timing.timeoutMs,
    );
    awaited = { payload, deadline };
    listening.query('SELECT pg_notify($1, $2)', [channel, payload]).catch(dead);
  }, timing.everyMs);
  beats.unref();
  return {
    /** Whether `payload` was a heartbeat (which no handler hears). */
    heard(payload) {
      if (!payload.startsWith(HEARTBEAT_PREFIX)) return false;
      if (payload === awaited?.payload) {
        clearTimeout(awaited.deadline);
        awaited = undefined;
      }
      return true;
    },
    stop() {
      clearInterval(beats);
      clearTimeout(awaited?.deadline);
    },
  };
}

/**
 * A connection of its own that LISTENs on one channel, and listens again whenever it is lost (a
 * restart of PostgreSQL, a network cut). Handlers hear when it is lost and when it is back, so
 * that what was remembered on the strength of the notifications can be dropped meanwhile.
 * A connection can also die in silence (a NAT or load balancer that drops an idle flow, a pooler
 * that moves the session): a heartbeat takes it for lost when its own notification does not come back.
 */
export function listenForNotifications(
  url: string,
  channel: string,
  handlers: NotificationHandlers,
  log: Logger,
  heartbeat: HeartbeatTiming = HEARTBEAT,
): NotificationListener {
  let closed = false;
  let client: Client | undefined;
  let retry: NodeJS.Timeout | undefined;
  let beating: ReturnType<typeof heartbeatOn> | undefined;

  const lose = (error?: Error) => {
    if (!client) return;
    const lostClient = client;
    client = undefined;
    beating?.stop();
    handlers.lost();
    lostClient.end().catch(() => undefined);
    if (closed) return;
    if (error) log.warn({ err: error, channel }, 'notification listener lost its connection: listening again');
    retry = setTimeout(connect, RECONNECT_DELAY_MS);
  };

  const connect = () => {
    retry = undefined;
    if (closed) return;
    const next = new Client({ connectionString: url, application_name: 'platform-api-listen', keepAlive: true });
    client = next;
    const gone = (error: Error) => {
      if (client === next) lose(error);
    };
    next.on('notification', (message) => {
      if (message.channel !== channel || beating?.heard(message.payload ?? '')) return;
      handlers.message(message.payload ?? '');
    });
    next.on('error', gone);
    next.on('end', () => gone(new Error('connection ended')));
    next
      .connect()
      .then(() => next.query(`LISTEN "${channel}"`))
      .then(() => {
        if (client !== next || closed) return;
        beating = heartbeatOn(next, channel, heartbeat, gone);
        handlers.ready();
      })
      .catch(gone);
  };

  connect();
  return {
    async close() {
      closed = true;
      if (retry) clearTimeout(retry);
      beating?.stop();
      const last = client;
      client = undefined;
      handlers.lost();
      await last?.end().catch(() => undefined);
    },
  };
}

/**
 * Waiters for a notification this process sent to come back to it: once it has, every listening
 * process has it too. Each waits at most `timeoutMs`; a lost connection releases them all.
 */
export class Echoes {
  private readonly waiting = new Map<string, (() => void)[]>();

  constructor(private readonly timeoutMs: number) {}

  /** Resolves when `payload` is heard, or after the timeout (then it waits no more). */
  wait(payload: string): Promise<void> {
    return new Promise<void>((resolve) => {
      const waiting = this.waiting;
      const timer = setTimeout(done, this.timeoutMs);
      const list = waiting.get(payload) ?? [];
      list.push(done);
      waiting.set(payload, list);
      function done() {
        clearTimeout(timer);
        const left = (waiting.get(payload) ?? []).filter((other) => other !== done);
        if (left.length) waiting.set(payload, left);
        else waiting.delete(payload);
        resolve();
      }
    });
  }

  heard(payload: string): void {
    for (const done of this.waiting.get(payload) ?? []) done();
  }

  /** Nothing will come back on a lost connection: nobody waits for it. */
  releaseAll(): void {
    for (const list of [...this.waiting.values()]) for (const done of list) done();
  }
}

/** How long a revocation waits for its notification to come back before answering anyway. */
const REVOCATION_ECHO_WAIT_MS = 2000;

/**
 * A per-process memory of what any replica can revoke (keys, sessions), kept while a connection
 * LISTENs on its channel: a notification `kind:id` makes it forget that, and losing or regaining
 * the connection makes it forget everything. Subclasses say what to forget and, by `listening`
 * and `epoch`, when a read may be remembered.
 */
export abstract class RevocationMemory {
  protected listening = false;
  /** Moves on every invalidation, so that a read that raced one is not remembered. */
  protected epoch = 0;
  private listener?: NotificationListener;
  /** Revocations of this process waiting for their notification to come back. */
  private readonly echoes = new Echoes(REVOCATION_ECHO_WAIT_MS);

  constructor(
    private readonly channel: string,
    protected readonly log: Logger,
  ) {}

  /** Starts listening; `url` reaches the primary directly (not through a transaction pooler). */
  listen(url: string): void {
    this.listener = listenForNotifications(
      url,
      this.channel,
      {
        ready: () => this.restart(true),
        lost: () => this.restart(false),
        message: (payload) => {
          this.invalidate(payload);
          this.echoes.heard(payload);
        },
      },
      this.log,
    );
  }

  /**
   * Forgets at once what this process knew of `what` (`kind:id`), then waits (briefly, at most)
   * until the notification that tells the other replicas came back.
   */
  async forget(what: string): Promise<void> {
    this.invalidate(what);
    if (this.listening) await this.echoes.wait(what);
  }

  async close(): Promise<void> {
    await this.listener?.close();
  }

  /** Forgets what `kind:id` names. */
  protected abstract drop(kind: string, id: string): void;

  /** Forgets everything remembered while listening. */
  protected abstract dropAll(): void;

  private invalidate(payload: string): void {
    this.epoch += 1;
    const colon = payload.indexOf(':');
    this.drop(payload.slice(0, colon), payload.slice(colon + 1));
  }

  private restart(listening: boolean): void {
    this.listening = listening;
    this.epoch += 1;
    this.dropAll();
    if (!listening) this.echoes.releaseAll();
  }
}
