import { AccessKey } from '../entities/access-key.entity';
import { Credential } from '../entities/credential.entity';
import { InvoiceLineItem } from '../entities/invoice-line-item.entity';
import { Organization } from '../entities/organization.entity';
import { ProjectGrant } from '../entities/project-grant.entity';
import { Project } from '../entities/project.entity';
import { ServiceAccount } from '../entities/service-account.entity';
import { UserRole } from '../entities/user-role.entity';
import { User } from '../entities/user.entity';
import { RowShape, type ShapeOutline } from './row-shape';

const BASE = ['id', 'createdAt', 'updatedAt'] as const;
const TIMES = ['createdAt', 'updatedAt'] as const;

/** One column list and one row mapper per entity that the repositories read by hand. */
export const ORGANIZATION = new RowShape(
  Organization,
  [
    ...BASE,
    'name',
    'slug',
    'billingEmail',
    'paymentCustomerRef',
    'taxId',
    'billingAddress',
    'lastInvoiceNumber',
    'deletedAt',
    'suspendedAt',
    'suspensionReason',
    'suspensionKind',
    'trialEndsAt',
  ],
  [...TIMES, 'deletedAt', 'suspendedAt', 'trialEndsAt'],
);

export const PROJECT = new RowShape(
  Project,
  [...BASE, 'name', 'ref', 'organizationId', 'region', 'status', 'deletedAt'],
  [...TIMES, 'deletedAt'],
  {
    status_before_deletion: 'read only by undeleteProject, in its own statement',
    status_changed_at: 'read only by a lifecycle step (forProvisioning), for its idempotency key',
  },
);

export const USER = new RowShape(
  User,
  [...BASE, 'email', 'displayName', 'lastLoginAt', 'platformRole', 'emailVerified'],
  [...TIMES, 'lastLoginAt'],
  { hashed_password: 'read only by log-in, through its own statement' },
);

export const MEMBERSHIP = new RowShape(UserRole, [...BASE, 'userId', 'organizationId', 'role'], TIMES);

export const PROJECT_GRANT = new RowShape(
  ProjectGrant,
  [...BASE, 'userId', 'serviceAccountId', 'projectId', 'accessLevel'],
  TIMES,
);

export const SERVICE_ACCOUNT = new RowShape(
  ServiceAccount,
  [...BASE, 'organizationId', 'name', 'role', 'createdById'],
  TIMES,
);

/** Never the secret's hash: only authentication reads it, through its own statement. */
export const ACCESS_KEY = new RowShape(
  AccessKey,
  [...BASE, 'lookupId', 'name', 'serviceAccountId', 'userId', 'expiresAt', 'lastUsedAt', 'revokedAt'],
  [...TIMES, 'expiresAt', 'lastUsedAt', 'revokedAt'],
  { secret_hash: 'read only to authenticate, by accessKeyRepository.byLookupId' },
);

/** Secret columns included, still encrypted: only the fields that check the permission open them. */
export const CREDENTIAL = new RowShape(
  Credential,
  [...BASE, 'projectId', 'anonKey', 'serviceRoleKey', 'jwtSecret'],
  TIMES,
);

export const INVOICE_LINE = new RowShape(
  InvoiceLineItem,
  [...BASE, 'invoiceId', 'description', 'quantity', 'unitAmountCents', 'amountCents', 'periodStart', 'periodEnd'],
  [...TIMES, 'periodStart', 'periodEnd'],
);

/** Every shape, for the test that holds each to its entity's columns. */
export const SHAPES: readonly ShapeOutline[] = [
  ORGANIZATION,
  PROJECT,
  USER,
  MEMBERSHIP,
  PROJECT_GRANT,
  CREDENTIAL,
  INVOICE_LINE,
  SERVICE_ACCOUNT,
  ACCESS_KEY,
];
