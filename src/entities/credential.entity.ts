import { Check, Column, Entity, JoinColumn, OneToOne } from 'typeorm';
import { BaseEntity } from './base.entity';
import { Project } from './project.entity';

/**
 * A project's API credentials. jwt_secret and service_role_key hold AES-256-GCM
 * ciphertext (see src/crypto/secret-box.ts), never plain text: the CHECKs refuse
 * anything that is not an envelope. They are never selected unless asked for.
 * One row per project: the one-to-one relation is backed by UQ_credentials_project_id.
 */
@Entity({ name: 'credentials' })
@Check('CHK_credentials_jwt_secret_encrypted', `jwt_secret LIKE 'enc:%'`)
@Check('CHK_credentials_service_role_key_encrypted', `service_role_key LIKE 'enc:%'`)
export class Credential extends BaseEntity {
  @Column({ type: 'uuid' })
  projectId: string;

  @OneToOne(() => Project, { onDelete: 'CASCADE', nullable: false })
  @JoinColumn({ name: 'project_id' })
  project?: Project;

  @Column({ type: 'text' })
  anonKey: string;

  @Column({ type: 'text', select: false })
  serviceRoleKey: string;

  @Column({ type: 'text', select: false })
  jwtSecret: string;
}
