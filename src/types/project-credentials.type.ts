import { Field, ID, ObjectType } from 'type-graphql';

/** A project's keys. Its fields are resolved (and guarded) one by one in the resolver. */
@ObjectType()
export class ProjectCredentials {
  /** One set of keys per project: its id is the project's, so a rotation updates what a client's cache holds. */
  @Field(() => ID, { description: "The project's id: one set of keys per project." })
  readonly id: string;

  constructor(readonly projectId: string) {
    this.id = projectId;
  }
}
