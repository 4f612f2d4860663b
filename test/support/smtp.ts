import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { eventually } from './given';

export interface ReceivedMail {
  to: string[];
  subject: string;
  /** The plain-text part, decoded. */
  text: string;
  raw: string;
}

export interface MailCatcher {
  /** SMTP_URL for the server under test. */
  url: string;
  received: ReceivedMail[];
  /** The first mail to `to` whose text holds `contains`, waited for. */
  waitFor(to: string, contains: string, timeoutMs?: number): Promise<ReceivedMail>;
  /** The token of the link `{studio}/<page>?token=…` in the first such mail to `to`. */
  tokenFrom(to: string, page: string, timeoutMs?: number): Promise<string>;
  /** Stops listening (the mail server is down) until `start`. */
  stop(): Promise<void>;
  start(): Promise<void>;
}

function header(raw: string, name: string): string {
  const match = new RegExp(`^${name}:\\s*(.*(?:\\r?\\n[ \\t].*)*)`, 'im').exec(raw);
  return match ? match[1].replace(/\r?\n[ \t]/g, ' ').trim() : '';
}

function decodeQuotedPrintable(body: string): string {
  const bytes = body
    .replace(/=\r?\n/g, '')
    .replace(/=([0-9A-F]{2})/gi, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  return Buffer.from(bytes, 'latin1').toString('utf8');
}

/** The decoded text/plain part of a MIME message (multipart or not). */
export function textPart(raw: string): string {
  const boundary = /boundary="?([^";\r\n]+)"?/i.exec(raw)?.[1];
  const parts = boundary ? raw.split(`--${boundary}`) : [raw];
  const part = parts.find((p) => /content-type:\s*text\/plain/i.test(p)) ?? '';
  const split = part.search(/\r?\n\r?\n/);
  const [head, body] = [part.slice(0, split), part.slice(split).replace(/^\r?\n\r?\n/, '')];
  const encoding = header(head.trim(), 'Content-Transfer-Encoding').toLowerCase();
  if (encoding === 'base64') return Buffer.from(body.replace(/\s/g, ''), 'base64').toString('utf8');
  if (encoding === 'quoted-printable') return decodeQuotedPrintable(body);
  return body;
}

/** A real SMTP server in the test process (smtp-server) that keeps what it receives. */
export async function startMailCatcher(): Promise<MailCatcher> {
  const received: ReceivedMail[] = [];
  let server: SMTPServer | undefined;
  let port = 0;
  const start = async () => {
    if (server) return;
    server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS', 'AUTH'],
      logger: false,
      // Stopping cuts the connections at once: a mail server that goes down does not wait for its clients.
      closeTimeout: 50,
      onData(stream, session, callback) {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => {
          const raw = Buffer.concat(chunks).toString('utf8');
          const to = session.envelope.rcptTo.map((rcpt) => rcpt.address);
          received.push({ to, subject: header(raw, 'Subject'), text: textPart(raw), raw });
          callback();
        });
      },
    });
    const listening = server;
    // The port of a server just stopped can take a moment to be free again.
    for (let attempt = 0; ; attempt += 1) {
      try {
        await new Promise<void>((resolve, reject) => {
          listening.server.once('error', reject);
          listening.listen(port, '127.0.0.1', () => {
            listening.server.off('error', reject);
            resolve();
          });
        });
        break;
      } catch (error) {
        if (attempt >= 40) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    port = (listening.server.address() as AddressInfo).port;
  };
  await start();
  const catcher: MailCatcher = {
    url: `smtp://127.0.0.1:${port}`,
    received,
    async waitFor(to, contains, timeoutMs = 15_000) {
      let found: ReceivedMail | undefined;
      await eventually(async () => {
        found = received.find((mail) => mail.to.includes(to) && mail.text.includes(contains));
        if (!found) throw new Error(`no mail to ${to} holding ${contains} (got ${received.length} mails)`);
        await Promise.resolve();
      }, timeoutMs);
      return found as ReceivedMail;
    },
    async tokenFrom(to, page, timeoutMs) {
      const mail = await catcher.waitFor(to, `/${page}?token=`, timeoutMs);
      const match = new RegExp(`/${page}\\?token=([A-Za-z0-9_%-]+)`).exec(mail.text);
      if (!match) throw new Error(`no ${page} link in ${mail.text}`);
      return decodeURIComponent(match[1]);
    },
    async stop() {
      const stopping = server;
      server = undefined;
      if (!stopping) return;
      await new Promise<void>((resolve) => {
        stopping.close(() => resolve());
        for (const connection of stopping.connections) connection.close();
      });
    },
    start,
  };
  return catcher;
}
