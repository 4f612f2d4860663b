import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import type { Pool } from 'pg';
import type { PostgresDriver } from 'typeorm/driver/postgres/PostgresDriver';
import { ConfigError, loadConfig, loadStorageConfig, requireMailDelivery } from '../../src/config';
import { startTestApp } from '../support/server';

const base = {
  AUTH_TOKEN_SECRET: randomBytes(32).toString('base64'),
  ENCRYPTION_KEY: randomBytes(32).toString('base64'),
  DATABASE_URL: 'postgres://platform:secret@db.internal:5432/platform',
  SMTP_URL: 'smtp://mail.internal:587',
};

/** The ConfigError a setting gets, which must name the variable. */
function refusal(env: Record<string, string>): ConfigError {
  try {
    loadConfig({ ...base, ...env });
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  assert.fail(`accepted ${JSON.stringify(env)}`);
}

describe('the configuration', () => {
  it('production without DATABASE_URL is refused, naming it, unless EMBEDDED_POSTGRES=true asks for the embedded database', () => {
    const production = { NODE_ENV: 'production', DATABASE_URL: '' };
    const error = refusal(production);
    assert.equal(error.variable, 'DATABASE_URL');
    assert.match(error.message, /DATABASE_URL is required when NODE_ENV=production.*EMBEDDED_POSTGRES=true/);
    assert.throws(() => loadStorageConfig({ NODE_ENV: 'production' }), /DATABASE_URL is required/);
    assert.equal(loadConfig({ ...base, ...production, EMBEDDED_POSTGRES: 'true' }).databaseUrl, undefined);
    assert.equal(refusal({ EMBEDDED_POSTGRES: 'true' }).variable, 'EMBEDDED_POSTGRES');
    assert.equal(refusal({ DATABASE_URL: '', EMBEDDED_POSTGRES: 'false' }).variable, 'DATABASE_URL');
    assert.equal(refusal({ DATABASE_URL: '', EMBEDDED_POSTGRES: 'yes' }).variable, 'EMBEDDED_POSTGRES');
  });

  it('an unknown LOG_LEVEL is refused naming LOG_LEVEL and the levels there are', () => {
    const error = refusal({ LOG_LEVEL: 'verbose' });
    assert.equal(error.variable, 'LOG_LEVEL');
    assert.match(
      error.message,
      /LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent \(got "verbose"\)/,
    );
  });

  it('every setting the server reads is validated, naming the variable', () => {
    const bad: Record<string, string> = {
      MIGRATE_ON_START: 'yes',
      MIGRATION_LOCK_WAIT_MS: 'soon',
      MIGRATIONS_ALLOW_OUT_OF_ORDER: '1',
      DATABASE_POOL_SIZE: '0',
      DATABASE_READ_POOL_SIZE: 'ten',
      DATABASE_STATEMENT_TIMEOUT_MS: '-1',
      DATABASE_IDLE_IN_TX_TIMEOUT_MS: '1.5',
      SHUTDOWN_DELAY_MS: 'a while',
      METRICS_PORT: '70000',
    };
    for (const [variable, value] of Object.entries(bad)) {
      const error = refusal({ [variable]: value });
      assert.equal(error.variable, variable, error.message);
      assert.ok(error.message.includes(`"${value}"`), error.message);
    }
    assert.equal(refusal({ PORT: '9100', METRICS_PORT: '9100' }).variable, 'METRICS_PORT');
  });

  it('defaults: 15 s statements, pools of 10, no metrics, a shutdown delay in production only, migrations at start outside it', () => {
    const development = loadConfig({ ...base, NODE_ENV: 'development' });
    const production = loadConfig({ ...base, NODE_ENV: 'production' });
    assert.deepEqual(development.databaseTimeouts, { statementMs: 15_000, idleInTransactionMs: 15_000 });
    assert.deepEqual([development.databasePoolSize, development.databaseReadPoolSize], [10, 10]);
    assert.equal(development.metricsPort, undefined);
    assert.deepEqual([development.shutdownDelayMs, production.shutdownDelayMs], [0, 5000]);
    assert.deepEqual([development.migrateOnStart, production.migrateOnStart], [true, false]);
    assert.deepEqual([development.migrationLockWaitMs, development.migrationsAllowOutOfOrder], [60_000, false]);
  });

  it("the operator's settings: sign-up by invitation in production, open elsewhere; billing on, no trial; bad values named", () => {
    const development = loadConfig({ ...base, NODE_ENV: 'development' });
    const production = loadConfig({ ...base, NODE_ENV: 'production' });
    assert.deepEqual([development.signupMode, production.signupMode], ['open', 'invite']);
    assert.deepEqual(production.jobs.billing, {
      enabled: true,
      pastDueSuspendDays: 14,
      paymentRetryDays: [1, 3, 7],
      trialDays: 0,
    });
    assert.deepEqual(loadConfig({ ...base, PAYMENT_RETRY_DAYS: ' 2, 5 ' }).jobs.billing.paymentRetryDays, [2, 5]);
    const bad = {
      SIGNUP_MODE: 'public',
      BILLING_ENABLED: 'no',
      PAYMENT_RETRY_DAYS: '3,1',
      PAST_DUE_SUSPEND_DAYS: '0',
      TRIAL_DAYS: '-1',
    };
    for (const [variable, value] of Object.entries(bad)) {
      assert.throws(
        () => loadConfig({ ...base, [variable]: value }),
        (error: Error) => error.message.includes(variable),
      );
    }
  });

  it('DATABASE_POOL_SIZE and DATABASE_READ_POOL_SIZE size the two pools of a running server', async () => {
    const app = await startTestApp({ DATABASE_POOL_SIZE: '3', DATABASE_READ_POOL_SIZE: '2' });
    try {
      const main = (app.server.dataSource.driver as PostgresDriver).master as Pool;
      assert.deepEqual([main.options.max, app.server.dataSource.leanReadPool?.options.max], [3, 2]);
    } finally {
      await app.close();
    }
  });

  it('accounts and mail: documented defaults; production needs SMTP_URL unless MAIL_DISABLED=true says so; bad values named', () => {
    const withoutMail = { ...base, SMTP_URL: '' };
    const config = loadConfig({ ...withoutMail, NODE_ENV: 'development', DATA_DIR: '/var/lib/platform' });
    assert.equal(config.accessTokenTtlSeconds, 900);
    assert.deepEqual(config.accounts, { sessionIdleDays: 14, sessionMaxDays: 90, requireVerifiedEmail: false });
    const { sealingKey, ...mail } = config.jobs.mail;
    assert.deepEqual(sealingKey, config.encryptionKey);
    assert.deepEqual(mail, {
      smtpUrl: undefined,
      from: 'Platform <no-reply@localhost>',
      disabled: false,
      directory: '/var/lib/platform/mail',
      studioUrl: 'http://localhost:3000',
      passwordResetTtlMinutes: 60,
      maxAttempts: 10,
      retryBaseSeconds: 30,
    });
    const production = loadConfig({ ...withoutMail, NODE_ENV: 'production' });
    assert.throws(
      () => requireMailDelivery(production.nodeEnv, production.jobs.mail),
      (error: unknown) =>
        error instanceof ConfigError &&
        error.variable === 'SMTP_URL' &&
        /SMTP_URL is required when NODE_ENV=production.*MAIL_DISABLED=true/.test(error.message),
    );
    const disabled = loadConfig({ ...withoutMail, NODE_ENV: 'production', MAIL_DISABLED: 'true' });
    requireMailDelivery(disabled.nodeEnv, disabled.jobs.mail);
    const sending = loadConfig({ ...base, NODE_ENV: 'production' });
    requireMailDelivery(sending.nodeEnv, sending.jobs.mail);
    assert.equal(refusal({ SMTP_URL: 'http://mail.internal' }).variable, 'SMTP_URL');
    assert.equal(refusal({ SESSION_IDLE_DAYS: '30', SESSION_MAX_DAYS: '7' }).variable, 'SESSION_IDLE_DAYS');
    assert.equal(refusal({ STUDIO_URL: 'studio' }).variable, 'STUDIO_URL');
    assert.equal(
      loadConfig({ ...base, STUDIO_URL: 'https://studio.example.com/' }).jobs.mail.studioUrl,
      'https://studio.example.com',
    );
  });
});
