import type { Logger as PinoLogger } from 'pino';
import type { QueryRunner, Logger as TypeOrmLogger } from 'typeorm';
import { scopeOf } from './request-database';

/**
 * TypeORM's logger, bound to pino: every statement is counted for the request that ran it
 * (see request-database.ts) and logged at trace, on that request's logger (never with its
 * parameters, which can hold secrets and hashes).
 */
export class CountingQueryLogger implements TypeOrmLogger {
  constructor(private readonly logger: PinoLogger) {}

  private loggerFor(queryRunner: QueryRunner | undefined): PinoLogger {
    return scopeOf(queryRunner)?.log ?? this.logger;
  }

  logQuery(query: string, _parameters?: unknown[], queryRunner?: QueryRunner): void {
    const scope = scopeOf(queryRunner);
    if (scope) scope.statements += 1;
    if (this.logger.isLevelEnabled('trace')) this.loggerFor(queryRunner).trace({ sql: query }, 'sql');
  }

  logQueryError(error: string | Error, query: string, _parameters?: unknown[], queryRunner?: QueryRunner): void {
    this.loggerFor(queryRunner).debug({ err: error, sql: query }, 'sql failed');
  }

  logQuerySlow(time: number, query: string, _parameters?: unknown[], queryRunner?: QueryRunner): void {
    this.loggerFor(queryRunner).warn({ ms: time, sql: query }, 'slow sql');
  }

  logSchemaBuild(message: string): void {
    this.logger.debug(message);
  }

  logMigration(message: string): void {
    this.logger.info(message);
  }

  /** A transaction PostgreSQL aborted (deadlock, serialization failure): run again, or given up on. */
  logTransactionRetry(code: string, attempt: number, retrying: boolean, queryRunner?: QueryRunner): void {
    const log = this.loggerFor(queryRunner);
    if (retrying) log.warn({ code, attempt }, 'transaction retried');
    else log.warn({ code, attempts: attempt }, 'transaction given up');
  }

  log(level: 'log' | 'info' | 'warn', message: unknown, queryRunner?: QueryRunner): void {
    if (level === 'warn') this.loggerFor(queryRunner).warn(String(message));
    else this.loggerFor(queryRunner).debug(String(message));
  }
}
