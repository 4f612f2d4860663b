import { ObjectType } from 'type-graphql';

/** A project's keys. Its fields are resolved (and guarded) one by one in the resolver. */
@ObjectType()
export class ProjectCredentials {
  constructor(readonly projectId: string) {}
}
