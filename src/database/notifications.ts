import { Client } from 'pg';
import type { Logger } from 'pino';

/** How long to wait before listening again after the connection was lost. */
const RECONNECT_DELAY_MS = 1000;

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
 * A connection of its own that LISTENs on one channel, and listens again whenever it is lost (a
 * restart of PostgreSQL, a network cut). Handlers hear when it is lost and when it is back, so
 * that what was remembered on the strength of the notifications can be dropped meanwhile.
 */
export function listenForNotifications(
  url: string,
  channel: string,
  handlers: NotificationHandlers,
  log: Logger,
): NotificationListener {
  let closed = false;
  let client: Client | undefined;
  let retry: NodeJS.Timeout | undefined;

  const lose = (error?: Error) => {
    if (!client) return;
    const lostClient = client;
    client = undefined;
    handlers.lost();
    lostClient.end().catch(() => undefined);
    if (closed) return;
    if (error) log.warn({ err: error, channel }, 'notification listener lost its connection: listening again');
    retry = setTimeout(connect, RECONNECT_DELAY_MS);
  };

  const connect = () => {
    retry = undefined;
    if (closed) return;
    const next = new Client({ connectionString: url, application_name: 'platform-api-listen' });
    client = next;
    next.on('notification', (message) => {
      if (message.channel === channel) handlers.message(message.payload ?? '');
    });
    next.on('error', (error) => {
      if (client === next) lose(error);
    });
    next.on('end', () => {
      if (client === next) lose(new Error('connection ended'));
    });
    next
      .connect()
      .then(() => next.query(`LISTEN "${channel}"`))
      .then(() => {
        if (client === next && !closed) handlers.ready();
      })
      .catch((error: Error) => {
        if (client === next) lose(error);
      });
  };

  connect();
  return {
    async close() {
      closed = true;
      if (retry) clearTimeout(retry);
      const last = client;
      client = undefined;
      handlers.lost();
      await last?.end().catch(() => undefined);
    },
  };
}
