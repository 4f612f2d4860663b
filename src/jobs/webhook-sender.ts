import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { Webhook } from 'standardwebhooks';
import type { CheckedTarget } from '../security/webhook-target';

/** What a receiver answered: its status, or why there was none. */
export interface SendOutcome {
  status: number | null;
  error: string | null;
}

/** A lookup that answers the address already checked, whatever the name: no second DNS answer is asked for. */
function pinned(target: CheckedTarget): LookupFunction {
  return (_hostname, options, callback) => {
    if ((options as { all?: boolean }).all) {
      (callback as unknown as (e: null, all: { address: string; family: number }[]) => void)(null, [
        { address: target.address, family: target.family },
      ]);
    } else callback(null, target.address, target.family);
  };
}

/**
 * POSTs `body` to the checked target, signed by the Standard Webhooks specification (webhook-id,
 * webhook-timestamp, webhook-signature) with the `standardwebhooks` package. Redirects are not
 * followed (a 3xx is a failure); the whole exchange is bounded by `timeoutMs`.
 */
export function sendSigned(
  target: CheckedTarget,
  signing: { secret: string; messageId: string },
  body: string,
  timeoutMs: number,
): Promise<SendOutcome> {
  const timestamp = new Date();
  const signature = new Webhook(signing.secret).sign(signing.messageId, timestamp, body);
  const client = target.url.protocol === 'https:' ? https : http;
  return new Promise((resolve) => {
    const request = client.request(
      target.url,
      {
        method: 'POST',
        lookup: pinned(target),
        signal: AbortSignal.timeout(timeoutMs),
        headers: {
          'content-type': 'application/json',
          'user-agent': 'platform-api-webhooks',
          'webhook-id': signing.messageId,
          'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)),
          'webhook-signature': signature,
        },
      },
      (response) => {
        // The body is not read beyond what arrives: only the status counts.
        response.resume();
        response.on('end', () => resolve({ status: response.statusCode ?? null, error: null }));
        response.on('error', (error) => resolve({ status: response.statusCode ?? null, error: error.message }));
      },
    );
    request.on('error', (error) => resolve({ status: null, error: error.message }));
    request.end(body);
  });
}
