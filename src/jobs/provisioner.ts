import type { ProvisionerConfig } from '../config';

import type { ProvisionStep } from '../request/jobs';

export type { ProvisionStep };

/** What a provisioner is told of the project it acts on. */
export interface ProvisionedProject {
  ref: string;
  organizationSlug: string;
  region: string;
  name: string;
}

/**
 * The infrastructure behind projects, which the operator plugs in. A step resolves when it is
 * done and throws when it failed; the queue retries it with the same idempotency key.
 */
export interface Provisioner {
  run(step: ProvisionStep, project: ProvisionedProject, idempotencyKey: string): Promise<void>;
}

/** The default: this control plane provisions nothing itself, so every step succeeds at once. */
export const builtInProvisioner: Provisioner = {
  run: () => Promise.resolve(),
};

export class ProvisionerError extends Error {}

/**
 * Each step as `POST {PROVISIONER_URL}` with `{ step, project }` and an Idempotency-Key that is the
 * same for every attempt of one step. A 2xx is success; any other answer, or none within the
 * timeout, is a failed attempt. The URL is the operator's, so private and loopback addresses are allowed.
 */
export function httpProvisioner(config: ProvisionerConfig & { url: string }): Provisioner {
  return {
    async run(step, project, idempotencyKey) {
      const response = await fetch(config.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': idempotencyKey },
        body: JSON.stringify({ step, project }),
        signal: AbortSignal.timeout(config.timeoutMs),
        redirect: 'error',
      }).catch((error: unknown) => {
        throw new ProvisionerError(`the provisioner did not answer the ${step} step: ${String(error)}`);
      });
      await response.arrayBuffer().catch(() => undefined);
      if (!response.ok) throw new ProvisionerError(`the provisioner answered the ${step} step with ${response.status}`);
    },
  };
}

export function provisionerFor(config: ProvisionerConfig): Provisioner {
  return config.url ? httpProvisioner({ ...config, url: config.url }) : builtInProvisioner;
}
