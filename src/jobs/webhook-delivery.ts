import type { Logger } from 'pino';
import type { DataSource, EntityManager } from 'typeorm';
import { SYSTEM_ACTIONS } from '../audit/actions';
import type { JobsConfig } from '../config';
import { open } from '../crypto/secret-box';
import { runTransaction } from '../database/transaction';
import { auditRepository } from '../repositories/audit.repository';
import {
  DeliveryStatus,
  webhookRepository,
  type DeliveryRow,
  type SenderWebhook,
} from '../repositories/webhook.repository';
import { JOB, type JobEnqueuer, type WebhookDeliveryJob } from '../request/jobs';
import { checkWebhookTarget, WebhookTargetError } from '../security/webhook-target';
import { eventDocument } from '../services/audit-chain.service';
import { recordSystemAudit } from '../services/audit.service';
import type { RunningJob } from './job-queue';
import { sendSigned, type SendOutcome } from './webhook-sender';

export interface WebhookDeps {
  db: DataSource;
  queue: JobEnqueuer;
  config: JobsConfig;
  log: Logger;
}

/**
 * The next attempt's delay: WEBHOOK_RETRY_BASE_MS, tripled after each failed attempt, so that the
 * default ten attempts span about fourteen hours (5 s, 15 s, 45 s, … 9 h).
 */
export function retryDelayMs(config: JobsConfig, attemptsMade: number): number {
  return config.webhooks.retryBaseMs * 3 ** (attemptsMade - 1);
}

/** One attempt: check the address again, sign, POST. Never throws: a failure is an outcome. */
async function attempt(deps: WebhookDeps, delivery: DeliveryRow, webhook: SenderWebhook): Promise<SendOutcome> {
  const event = await auditRepository.byId(deps.db.manager, delivery.eventId);
  if (!event) return { status: null, error: 'the audit event is gone (past its retention)' };
  if (!deps.config.encryptionKey) return { status: null, error: 'ENCRYPTION_KEY is not set in the worker' };
  try {
    const target = await checkWebhookTarget(webhook.url, deps.config.webhooks);
    const secret = open(deps.config.encryptionKey, webhook.secret);
    // The delivery's id is the message id: the same on every retry, for receivers that deduplicate.
    const signing = { secret, messageId: delivery.id };
    return await sendSigned(target, signing, JSON.stringify(eventDocument(event)), deps.config.webhooks.timeoutMs);
  } catch (error) {
    if (error instanceof WebhookTargetError) return { status: null, error: error.message };
    throw error;
  }
}

/**
 * A delivery's attempt: a 2xx delivers it; otherwise the next attempt is enqueued after the
 * backoff, until WEBHOOK_MAX_ATTEMPTS, when it fails. WEBHOOK_DISABLE_AFTER_FAILURES failed
 * deliveries in a row disable the webhook (an audit event of the system).
 */
export async function deliverWebhook(deps: WebhookDeps, job: RunningJob<WebhookDeliveryJob>): Promise<void> {
  const found = await webhookRepository.deliveryForUpdate(deps.db.manager, job.data.deliveryId);
  if (found?.delivery.status !== DeliveryStatus.PENDING) return;
  if (!found.webhook.enabled) {
    // Ended, not left pending: the sweep would give it a job every minute. Redelivered once enabled again.
    await webhookRepository.failPending(deps.db.manager, found.delivery.id, 'the webhook is disabled');
    return;
  }
  const outcome = await attempt(deps, found.delivery, found.webhook);
  const delivered = outcome.status !== null && outcome.status >= 200 && outcome.status < 300;
  await runTransaction(deps.db, async (tx) => {
    const current = await webhookRepository.deliveryForUpdate(tx, job.data.deliveryId);
    if (current?.delivery.status !== DeliveryStatus.PENDING) return;
    const attempts = current.delivery.attempts + 1;
    const final = delivered || attempts >= deps.config.webhooks.maxAttempts;
    const nextAttemptAt = final ? null : new Date(Date.now() + retryDelayMs(deps.config, attempts));
    const status = delivered ? DeliveryStatus.DELIVERED : final ? DeliveryStatus.FAILED : DeliveryStatus.PENDING;
    await webhookRepository.recordAttempt(tx, current.delivery.id, {
      status,
      responseStatus: outcome.status,
      error: outcome.error ?? (delivered ? null : `HTTP ${outcome.status}`),
      nextAttemptAt,
    });
    if (nextAttemptAt) {
      const data = { deliveryId: current.delivery.id, requestId: job.data.requestId };
      await deps.queue.enqueue(tx, JOB.webhookDelivery, data, {
        singletonKey: data.deliveryId,
        startAfter: nextAttemptAt,
      });
    }
    if (final) await countOutcome(deps, tx, current.webhook, delivered);
  });
  deps.log.info({ deliveryId: job.data.deliveryId, status: outcome.status, error: outcome.error }, 'webhook attempt');
}

/** Delivered: the count of failures starts afresh. Failed: counted, and past the limit the webhook is disabled. */
async function countOutcome(deps: WebhookDeps, tx: EntityManager, webhook: SenderWebhook, delivered: boolean) {
  const failures = await webhookRepository.countOutcome(tx, webhook.id, delivered);
  if (delivered || failures < deps.config.webhooks.disableAfterFailures) return;
  if (!(await webhookRepository.disable(tx, webhook.id))) return;
  await recordSystemAudit(tx, {
    action: SYSTEM_ACTIONS.webhookDisable,
    organizationId: webhook.organizationId,
    target: { type: 'webhook', id: webhook.id, label: webhook.url },
    changes: [
      { field: 'enabled', before: true, after: false },
      { field: 'consecutiveFailures', before: failures - 1, after: failures },
    ],
  });
}

/** Pending deliveries without a job (those of the system's own events, or a crash after a commit): their jobs. */
export async function sweepWebhookDeliveries(db: DataSource, queue: { send: JobEnqueuerSend }): Promise<number> {
  const due = await webhookRepository.pendingWithoutJob(db.manager, JOB.webhookDelivery, new Date());
  for (const deliveryId of due) await queue.send(JOB.webhookDelivery, { deliveryId }, deliveryId);
  return due.length;
}

type JobEnqueuerSend = (
  name: typeof JOB.webhookDelivery,
  data: WebhookDeliveryJob,
  singletonKey?: string,
) => Promise<unknown>;
