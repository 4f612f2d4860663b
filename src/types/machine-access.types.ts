import { Field, ID, ObjectType, registerEnumType } from 'type-graphql';
import { displayPrefix, KeyKind } from '../crypto/access-key-secrets';
import type { AccessKey } from '../entities/access-key.entity';
import { Authentication, PrincipalKind } from '../permissions';

registerEnumType(PrincipalKind, { name: 'PrincipalKind', description: 'Who a caller acts as.' });
registerEnumType(Authentication, { name: 'Authentication', description: 'How a request authenticated.' });

/** What every list shows of a key: never its secret, nor its hash. */
@ObjectType()
abstract class KeyView {
  @Field(() => ID)
  id: string;

  @Field()
  name: string;

  @Field({ description: 'The start of the secret, to recognise it: its kind and lookup id.' })
  prefix: string;

  @Field()
  createdAt: Date;

  @Field(() => Date, { nullable: true })
  expiresAt: Date | null;

  @Field(() => Date, { nullable: true, description: 'Written at most once a minute.' })
  lastUsedAt: Date | null;

  @Field(() => Date, { nullable: true })
  revokedAt: Date | null;
}

@ObjectType('ApiKey', { simpleResolvers: true })
export class ApiKeyView extends KeyView {}

@ObjectType('PersonalAccessToken', { simpleResolvers: true })
export class PersonalAccessTokenView extends KeyView {}

function viewOf<T extends KeyView>(view: T, key: AccessKey, kind: KeyKind): T {
  view.id = key.id;
  view.name = key.name;
  view.prefix = displayPrefix(kind, key.lookupId);
  view.createdAt = key.createdAt;
  view.expiresAt = key.expiresAt;
  view.lastUsedAt = key.lastUsedAt;
  view.revokedAt = key.revokedAt;
  return view;
}

export function apiKeyView(key: AccessKey): ApiKeyView {
  return viewOf(new ApiKeyView(), key, KeyKind.API_KEY);
}

export function personalAccessTokenView(key: AccessKey): PersonalAccessTokenView {
  return viewOf(new PersonalAccessTokenView(), key, KeyKind.PERSONAL_ACCESS_TOKEN);
}

@ObjectType()
export class ApiKeyPayload {
  @Field(() => ApiKeyView)
  apiKey: ApiKeyView;

  /** Shown this once: only its hash is stored. */
  @Field({ description: 'Shown this once: only its hash is stored. Send it as `Authorization: Bearer <secret>`.' })
  secret: string;
}

@ObjectType()
export class PersonalAccessTokenPayload {
  @Field(() => PersonalAccessTokenView)
  token: PersonalAccessTokenView;

  @Field({ description: 'Shown this once: only its hash is stored. Send it as `Authorization: Bearer <secret>`.' })
  secret: string;
}

/** The caller, as `viewer` answers: the principal's kind and how it authenticated (the rest is resolved). */
@ObjectType('Viewer')
export class ViewerView {
  /** The principal's id: a client's cache keeps one Viewer per caller. */
  @Field(() => ID)
  id: string;

  @Field(() => PrincipalKind)
  kind: PrincipalKind;

  @Field(() => Authentication)
  authentication: Authentication;

  userId: string | null;
  serviceAccountId: string | null;
  organizationId: string | null;
}
