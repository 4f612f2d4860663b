import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ProvisionRequest {
  step: string;
  ref: string;
  organizationSlug: string;
  idempotencyKey: string;
}

/** A real HTTP provisioner on loopback that records each call and fails while told to. */
export interface TestProvisioner {
  url: string;
  calls: ProvisionRequest[];
  failing: boolean;
  close(): Promise<void>;
}

export async function startTestProvisioner(): Promise<TestProvisioner> {
  const state = { calls: [] as ProvisionRequest[], failing: false };
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      const parsed = JSON.parse(body) as { step: string; project: { ref: string; organizationSlug: string } };
      state.calls.push({
        step: parsed.step,
        ref: parsed.project.ref,
        organizationSlug: parsed.project.organizationSlug,
        idempotencyKey: String(req.headers['idempotency-key']),
      });
      res.statusCode = state.failing ? 503 : 200;
      res.end(state.failing ? 'down for maintenance' : '{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/provision`,
    get calls() {
      return state.calls;
    },
    get failing() {
      return state.failing;
    },
    set failing(value: boolean) {
      state.failing = value;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
