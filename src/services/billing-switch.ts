import { BillingDisabledError } from '../errors';
import type { RequestContext } from '../request/context';

/** BILLING_ENABLED=false: every billing read and change answers BILLING_DISABLED. */
export function requireBilling(ctx: RequestContext): void {
  if (!ctx.config.jobs.billing.enabled) throw new BillingDisabledError();
}
