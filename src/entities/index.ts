import { AccessKey } from './access-key.entity';
import { AccountToken } from './account-token.entity';
import { Credential } from './credential.entity';
import { Invitation } from './invitation.entity';
import { InvoiceLineItem } from './invoice-line-item.entity';
import { Invoice } from './invoice.entity';
import { MailOutbox } from './mail-outbox.entity';
import { Organization } from './organization.entity';
import { PaymentMethod } from './payment-method.entity';
import { Plan } from './plan.entity';
import { Project } from './project.entity';
import { ProjectGrant } from './project-grant.entity';
import { ServiceAccount } from './service-account.entity';
import { Session, SessionRefreshToken } from './session.entity';
import { Subscription } from './subscription.entity';
import { UserRole } from './user-role.entity';
import { User } from './user.entity';

export const entities = [
  Organization,
  Project,
  Credential,
  Plan,
  Subscription,
  PaymentMethod,
  Invoice,
  InvoiceLineItem,
  User,
  UserRole,
  ProjectGrant,
  Invitation,
  ServiceAccount,
  AccessKey,
  Session,
  SessionRefreshToken,
  AccountToken,
  MailOutbox,
];
