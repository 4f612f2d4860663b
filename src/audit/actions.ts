/**
 * The audit action of every mutation, by its field name in the schema. A test walks the schema's
 * Mutation type and fails on a mutation missing here, so a new mutation cannot ship unaudited.
 * A mutation that changes nothing maps to `{ none: 'why' }`. Attach an action to a new mutation
 * with one line here, then `recordAudit(ctx, tx, { action: AUDIT_ACTIONS.theMutation, … })` in
 * its service, inside the transaction that makes the change (docs/audit.md).
 */
export const AUDIT_ACTIONS = {
  signUp: 'user.sign_up',
  logIn: 'session.login',
  createOrganization: 'organization.create',
  updateOrganization: 'organization.update',
  deleteOrganization: 'organization.delete',
  undeleteOrganization: 'organization.undelete',
  inviteMember: 'member.invite',
  acceptInvitation: 'member.join',
  updateMemberRole: 'member.role.update',
  removeMember: 'member.remove',
  leaveOrganization: 'member.leave',
  createProject: 'project.create',
  updateProject: 'project.update',
  pauseProject: 'project.pause',
  restoreProject: 'project.restore',
  deleteProject: 'project.delete',
  undeleteProject: 'project.undelete',
  rotateProjectJwtSecret: 'project.credentials.rotate',
  grantProjectPermission: 'project.permission.grant',
  revokeProjectPermission: 'project.permission.revoke',
  createServiceAccount: 'service_account.create',
  updateServiceAccount: 'service_account.update',
  deleteServiceAccount: 'service_account.delete',
  createApiKey: 'api_key.create',
  revokeApiKey: 'api_key.revoke',
  createPersonalAccessToken: 'personal_access_token.create',
  revokePersonalAccessToken: 'personal_access_token.revoke',
  changePlan: 'billing.plan.change',
  cancelSubscription: 'billing.subscription.cancel',
  resumeSubscription: 'billing.subscription.resume',
  updateBillingDetails: 'billing.details.update',
  addPaymentMethod: 'billing.payment_method.add',
  removePaymentMethod: 'billing.payment_method.remove',
  setDefaultPaymentMethod: 'billing.payment_method.set_default',
  payInvoice: 'billing.invoice.pay',
  suspendOrganization: 'organization.suspend',
  unsuspendOrganization: 'organization.unsuspend',
  setOrganizationPlan: 'billing.plan.set_complimentary',
  markInvoicePaid: 'billing.invoice.mark_paid',
  voidInvoice: 'billing.invoice.void',
  invitePlatformUser: 'user.invite',
  deleteUser: 'user.delete',
  createWebhook: 'webhook.create',
  updateWebhook: 'webhook.update',
  deleteWebhook: 'webhook.delete',
  rotateWebhookSecret: 'webhook.secret.rotate',
  redeliverWebhookDelivery: 'webhook.delivery.redeliver',
  refreshSession: 'session.refresh',
  logOut: 'session.logout',
  revokeSession: 'session.revoke',
  revokeAllSessions: 'session.revoke_all',
  changePassword: 'user.password.change',
  requestPasswordReset: {
    none: 'changes nothing itself: its job records user.password_reset.request when the address is a user’s',
  },
  resetPassword: 'user.password.reset',
  verifyEmail: 'user.email.verify',
  requestEmailVerification: 'user.email_verification.request',
  revokeInvitation: 'member.invitation.revoke',
  resendInvitation: 'member.invitation.resend',
} as const satisfies Record<string, string | { none: string }>;

/** What the system does on its own (jobs), and the other side of actions the API records. */
export const SYSTEM_ACTIONS = {
  /** logIn with a wrong e-mail or password: recorded outside the failed mutation's transaction. */
  logInFailed: 'session.login_failed',
  projectStatusChange: 'project.status.change',
  projectPurge: 'project.purge',
  organizationPurge: 'organization.purge',
  organizationSuspend: 'organization.suspend',
  webhookDisable: 'webhook.disable',
  /** A refresh token presented after its rotation: the system ends the session (theft suspected). */
  refreshTokenReused: 'session.refresh_token_reused',
  /** requestPasswordReset's job, for an address that is a user's: a reset link was mailed. */
  passwordResetRequest: 'user.password_reset.request',
} as const;

export type AuditAction =
  | Extract<(typeof AUDIT_ACTIONS)[keyof typeof AUDIT_ACTIONS], string>
  | (typeof SYSTEM_ACTIONS)[keyof typeof SYSTEM_ACTIONS];

export enum AuditActorType {
  USER = 'USER',
  SERVICE_ACCOUNT = 'SERVICE_ACCOUNT',
  PLATFORM_ADMIN = 'PLATFORM_ADMIN',
  SYSTEM = 'SYSTEM',
}

export interface AuditActor {
  type: AuditActorType;
  id: string | null;
  /** A snapshot (e-mail or name); when absent, the user's e-mail or the service account's name at the time. */
  label?: string | null;
}

export interface AuditChange {
  field: string;
  before: unknown;
  after: unknown;
}

export interface AuditTarget {
  type: string;
  id: string | null;
  label?: string | null;
}

/** What a change says of itself; who, when and from where come from the request. */
export interface AuditEventInput {
  action: AuditAction;
  /** Null for account and platform-level events. */
  organizationId: string | null;
  /** The user whose account an event concerns: it is in their `me { auditEvents }` (and chains there when organization is null). */
  accountId?: string | null;
  target: AuditTarget;
  projectRef?: string | null;
  changes?: AuditChange[];
  /** Who acted, when it is not the request's caller (sign-up, log-in, platform admins, jobs). */
  actor?: AuditActor;
}

export const REDACTED = '[redacted]';

/**
 * The fields that differ between `before` and `after` (a field absent on one side is null there);
 * `secret` fields show as "[redacted]" on both sides.
 */
export function diff(
  before: Record<string, unknown> | null,
  after: Record<string, unknown> | null,
  secret: readonly string[] = [],
): AuditChange[] {
  const fields = new Set([...Object.keys(before ?? {}), ...Object.keys(after ?? {})]);
  const changes: AuditChange[] = [];
  for (const field of fields) {
    const was = plain(before?.[field]);
    const is = plain(after?.[field]);
    if (JSON.stringify(was) === JSON.stringify(is)) continue;
    const hidden = secret.includes(field);
    changes.push({
      field,
      before: hidden && was !== null ? REDACTED : was,
      after: hidden && is !== null ? REDACTED : is,
    });
  }
  return changes;
}

function plain(value: unknown): unknown {
  if (value === undefined) return null;
  if (value instanceof Date) return value.toISOString();
  return value;
}

/** Whether `action` is named by one of `patterns`: an action, a prefix ending in `.*`, or `*`. */
export function actionMatches(patterns: readonly string[], action: string): boolean {
  return patterns.some(
    (pattern) =>
      pattern === '*' || pattern === action || (pattern.endsWith('.*') && action.startsWith(pattern.slice(0, -1))),
  );
}
