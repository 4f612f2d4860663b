import { setTimeout as sleep } from 'node:timers/promises';
import { EntityNotFoundError, QueryFailedError, type DataSource, type EntityManager, type QueryRunner } from 'typeorm';
import { Credential } from '../entities/credential.entity';
import { Invitation } from '../entities/invitation.entity';
import { Invoice } from '../entities/invoice.entity';
import { Organization } from '../entities/organization.entity';
import { PaymentMethod } from '../entities/payment-method.entity';
import { ProjectGrant } from '../entities/project-grant.entity';
import { Project } from '../entities/project.entity';
import { Subscription } from '../entities/subscription.entity';
import { UserRole } from '../entities/user-role.entity';
import { BadUserInputError, ConflictError, NotFoundError, ServiceUnavailableError } from '../errors';
import { CountingQueryLogger } from './query-counter';

/** What a violated constraint means to the client: the one table from constraint to error. */
const CONSTRAINT_ERRORS: Record<string, () => Error> = {
  UQ_organizations_slug: () => new ConflictError('That organization slug is already taken', 'slug'),
  UQ_users_email: () => new ConflictError('An account with this e-mail address already exists', 'email'),
  UQ_user_roles_user_id_organization_id: () => new ConflictError('This user is already a member', 'userId'),
  UQ_permissions_user_id_project_id: () => new ConflictError('This user already has access to the project', 'userId'),
  UQ_service_accounts_organization_id_name: () =>
    new ConflictError('The organization already has a service account of that name', 'name'),
  FK_permissions_service_account_id: () => new NotFoundError('Service account'),
  FK_access_keys_service_account_id: () => new NotFoundError('Service account'),
  FK_access_keys_user_id: () => new NotFoundError('User'),
  FK_service_accounts_organization_id: () => new NotFoundError('Organization'),
  UQ_invitations_pending_per_email: () =>
    new ConflictError('An invitation for this e-mail address is already pending', 'email'),
  // Billing writes run under the organization's lock, so these only answer a race that slipped past it.
  UQ_subscriptions_current_per_organization: () =>
    new ConflictError('The organization already has a current subscription: try again'),
  UQ_payment_methods_default_per_organization: () =>
    new ConflictError('The organization already has a default payment method: try again'),
  UQ_payment_methods_provider_provider_ref: () => new ConflictError('This card is already attached', 'token'),
  UQ_invoices_organization_id_number: () => new ConflictError('That invoice number is taken: try again'),
  UQ_invoices_subscription_id_period_start: () => new ConflictError('This billing period already has an invoice'),
  // A write that refers to a row deleted since it was read: the row is gone for this request too.
  // (These keys cascade or set null on delete, so they are only ever violated by such a write.)
  FK_permissions_user_id: () => new NotFoundError('User'),
  FK_user_roles_user_id: () => new NotFoundError('User'),
  FK_invitations_invited_by_id: () => new NotFoundError('User'),
  FK_invitations_accepted_by_id: () => new NotFoundError('User'),
  FK_projects_organization_id: () => new NotFoundError('Organization'),
  FK_user_roles_organization_id: () => new NotFoundError('Organization'),
  FK_invitations_organization_id: () => new NotFoundError('Organization'),
  FK_subscriptions_organization_id: () => new NotFoundError('Organization'),
  FK_payment_methods_organization_id: () => new NotFoundError('Organization'),
  FK_invoices_organization_id: () => new NotFoundError('Organization'),
  FK_credentials_project_id: () => new NotFoundError('Project'),
  FK_permissions_project_id: () => new NotFoundError('Project'),
  FK_invoices_subscription_id: () => new NotFoundError('Subscription'),
  FK_invoice_line_items_invoice_id: () => new NotFoundError('Invoice'),
};

/**
 * Rows that a request can delete (or that go with one), by entity: a unit of work that finds one
 * gone (TypeORM's `find…OrFail`) answers NOT_FOUND. Any other missing row is a server fault.
 */
const VANISHING_ENTITIES = new Map<unknown, string>([
  [Organization, 'Organization'],
  [Project, 'Project'],
  [Credential, 'Credentials'],
  [ProjectGrant, 'Project permission'],
  [UserRole, 'Member'],
  [Invitation, 'Invitation'],
  [PaymentMethod, 'Payment method'],
  [Subscription, 'Subscription'],
  [Invoice, 'Invoice'],
]);

interface PgError {
  code?: string;
  constraint?: string;
}

/** Maps a PostgreSQL constraint violation, or a row gone under a unit of work, to a typed client error; anything else is rethrown. */
export function translateDatabaseError(error: unknown): unknown {
  if (error instanceof EntityNotFoundError) {
    const kind = VANISHING_ENTITIES.get(error.entityClass);
    return kind ? new NotFoundError(kind) : error;
  }
  if (!(error instanceof QueryFailedError)) return error;
  const { code, constraint } = error.driverError as PgError;
  const known = constraint ? CONSTRAINT_ERRORS[constraint] : undefined;
  if (known) return known();
  if (code === '23505') return new ConflictError('This conflicts with an existing record');
  if (code === '23514' || code === '22001') return new BadUserInputError('A value is out of the allowed range');
  return error;
}

/** PostgreSQL's answers that ask for the whole transaction again: deadlock detected, serialization failure. */
const RETRYABLE_CODES = new Set(['40P01', '40001']);
const ATTEMPTS = 4;
const BACKOFF_BASE_MS = 10;

function retryableCode(error: unknown): string | undefined {
  if (!(error instanceof QueryFailedError)) return undefined;
  const { code } = error.driverError as PgError;
  return code !== undefined && RETRYABLE_CODES.has(code) ? code : undefined;
}

/** Doubles with each attempt, jittered so that the transactions that collided do not meet again in step. */
function backoffMs(attempt: number): number {
  const ceiling = BACKOFF_BASE_MS * 2 ** attempt;
  return ceiling / 2 + (Math.random() * ceiling) / 2;
}

function logRetry(db: DataSource, runner: QueryRunner, code: string, attempt: number, retrying: boolean): void {
  if (db.logger instanceof CountingQueryLogger) db.logger.logTransactionRetry(code, attempt, retrying, runner);
  else db.logger.log('warn', `transaction ${retrying ? 'retried' : 'given up'} after ${code}`, runner);
}

export interface TransactionOptions {
  /**
   * false for a unit of work that calls something outside the database (a payment provider): run
   * again, it would call it again. A deadlock then answers SERVICE_UNAVAILABLE, and nothing was written.
   */
  retry?: boolean;
}

/**
 * Runs a unit of work in one transaction: everything or nothing; violations become typed errors.
 * A deadlock or serialization failure rolls the whole transaction back and runs `work` again from
 * the start (a few times, then SERVICE_UNAVAILABLE), so `work` must change nothing but the database.
 */
export async function runTransaction<T>(
  db: DataSource,
  work: (tx: EntityManager) => Promise<T>,
  options: TransactionOptions = {},
): Promise<T> {
  const attempts = options.retry === false ? 1 : ATTEMPTS;
  for (let attempt = 1; ; attempt += 1) {
    // A runner of its own per attempt: its connection goes back to the pool while this one waits.
    const runner = db.createQueryRunner();
    try {
      return await runner.manager.transaction(work);
    } catch (error) {
      const code = retryableCode(error);
      if (code === undefined) throw translateDatabaseError(error);
      const retrying = attempt < attempts;
      logRetry(db, runner, code, attempt, retrying);
      if (!retrying) throw new ServiceUnavailableError();
    } finally {
      await runner.release();
    }
    await sleep(backoffMs(attempt));
  }
}
