import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Client } from 'pg';
import pino from 'pino';
import { listenForNotifications } from '../../src/database/notifications';
import { createDatabase, dropDatabase } from '../support/database';
import { eventually } from '../support/given';

/**
 * A TCP proxy in front of PostgreSQL whose connections can be made to go silent, as a NAT or a
 * load balancer that dropped an idle flow does: bytes stop passing and nobody is told.
 */
async function silenceableProxy(target: URL) {
  const pairs = new Set<{ silent: boolean; inbound: net.Socket; outbound: net.Socket }>();
  const server = net.createServer((inbound) => {
    const outbound = net.connect(Number(target.port), target.hostname);
    const pair = { silent: false, inbound, outbound };
    pairs.add(pair);
    inbound.on('data', (chunk) => pair.silent || outbound.write(chunk));
    outbound.on('data', (chunk) => pair.silent || inbound.write(chunk));
    const close = () => {
      pairs.delete(pair);
      inbound.destroy();
      outbound.destroy();
    };
    inbound.on('close', close).on('error', close);
    outbound.on('close', close).on('error', close);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  const url = new URL(target);
  url.host = `127.0.0.1:${port}`;
  return {
    url: url.toString(),
    /** Every connection open now goes silent; new ones pass. */
    silenceAll: () => pairs.forEach((pair) => (pair.silent = true)),
    close: async () => {
      pairs.forEach((pair) => pair.inbound.destroy());
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

describe('the notification listener', () => {
  let url: string;
  before(async () => {
    url = await createDatabase({ migrated: false });
  });
  after(() => dropDatabase(url));

  it('takes a connection gone silent for lost (its own heartbeat did not come back), then listens again', async () => {
    const proxy = await silenceableProxy(new URL(url));
    const events: string[] = [];
    const listener = listenForNotifications(
      proxy.url,
      'test_channel',
      {
        ready: () => events.push('ready'),
        lost: () => events.push('lost'),
        message: (payload) => events.push(`message ${payload}`),
      },
      pino({ level: 'silent' }),
      { everyMs: 100, timeoutMs: 300 },
    );
    const notify = async (payload: string) => {
      const client = new Client({ connectionString: url });
      await client.connect();
      await client.query("SELECT pg_notify('test_channel', $1)", [payload]);
      await client.end();
    };
    try {
      await eventually(() => Promise.resolve(assert.deepEqual(events, ['ready'])));
      await notify('first');
      await eventually(() => Promise.resolve(assert.deepEqual(events, ['ready', 'message first'])));
      proxy.silenceAll();
      await eventually(() => Promise.resolve(assert.deepEqual(events.slice(2), ['lost', 'ready'])));
      await notify('second');
      await eventually(() => Promise.resolve(assert.equal(events.at(-1), 'message second')));
      assert.ok(!events.some((event) => event.includes('heartbeat')), 'heartbeats reach no handler');
    } finally {
      await listener.close();
      await proxy.close();
    }
  });
});
