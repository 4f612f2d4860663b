import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { PRODUCTION_START_COMMAND, PRUNED_INSTALL_COMMANDS } from '../support/pruned-install';

const ROOT = path.join(__dirname, '..', '..', '..');

interface Instruction {
  keyword: string;
  args: string;
}

interface Stage {
  name: string;
  base: string;
  instructions: Instruction[];
}

/** The Dockerfile's instructions by stage: continuation lines joined, comments dropped. */
function parseDockerfile(text: string): Stage[] {
  const logical = text
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('#'))
    .join('\n')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean);
  const stages: Stage[] = [];
  for (const line of logical) {
    const [, keyword, args] = /^(\S+)\s+(.*)$/.exec(line) ?? [];
    const upper = keyword.toUpperCase();
    if (upper === 'FROM') {
      const [, base, name] = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args) ?? [];
      stages.push({ name: name ?? String(stages.length), base, instructions: [] });
    } else if (stages.length) {
      stages.at(-1)?.instructions.push({ keyword: upper, args: args.replace(/\s+/g, ' ') });
    }
  }
  return stages;
}

/** A command as the shell runs it: exec form (a JSON array) or shell form. */
const command = (args: string) => (args.startsWith('[') ? (JSON.parse(args) as string[]).join(' ') : args);

const of = (stage: Stage, keyword: string) => stage.instructions.filter((i) => i.keyword === keyword);

describe('the Dockerfile', () => {
  const stages = parseDockerfile(readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8'));
  const runtime = stages.at(-1) as Stage;
  const copiedFrom = (what: string) =>
    of(runtime, 'COPY')
      .map((copy) => /^--from=(\S+)\s+(.*)$/.exec(copy.args))
      .find((match) => match?.[2].split(' ').some((part) => part.includes(what)))?.[1];
  const build = stages.find((stage) => stage.name === copiedFrom('/app/node_modules'));

  it('builds in a stage of its own with exactly the pruned-install commands the pruned-install test runs', () => {
    assert.ok(build, 'the runtime stage copies node_modules from a build stage');
    assert.equal(copiedFrom('/app/dist'), build.name, 'and dist/ from the same stage');
    assert.deepEqual(
      of(build, 'RUN').map((run) => command(run.args)),
      [...PRUNED_INSTALL_COMMANDS],
    );
  });

  it('runs the pruned install with the production start command, as a user other than root, and installs nothing more', () => {
    assert.deepEqual(of(runtime, 'RUN'), [], 'nothing is installed or built in the runtime stage');
    assert.equal(command(of(runtime, 'CMD').at(-1)?.args ?? ''), PRODUCTION_START_COMMAND);
    const user = of(runtime, 'USER').at(-1)?.args;
    assert.ok(user && !['root', '0', '0:0'].includes(user), `runs as ${user}`);
    assert.ok(
      of(runtime, 'ENV').some((env) => /\bNODE_ENV=production\b/.test(env.args)),
      'NODE_ENV=production',
    );
  });

  it('checks its health on /readyz', () => {
    const healthcheck = of(runtime, 'HEALTHCHECK').at(-1)?.args ?? '';
    assert.match(healthcheck, /\/readyz/);
  });

  it('copies into the build everything npm ci installs from the project itself, and none of the host install', () => {
    const manifest = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as {
      dependencies?: Record<string, string>;
      devDependencies?: Record<string, string>;
    };
    const local = Object.values({ ...manifest.dependencies, ...manifest.devDependencies })
      .filter((spec) => spec.startsWith('file:'))
      .map((spec) => spec.slice('file:'.length));
    const firstRun = (build as Stage).instructions.findIndex((i) => i.keyword === 'RUN');
    const copied = (build as Stage).instructions
      .slice(0, firstRun)
      .filter((i) => i.keyword === 'COPY')
      .flatMap((copy) => copy.args.split(' ').slice(0, -1));
    for (const needed of ['package.json', 'package-lock.json', ...local]) {
      assert.ok(
        copied.some((source) => needed === source || needed.startsWith(`${source}/`)),
        `${needed} is copied before npm ci`,
      );
    }
    const ignored = readFileSync(path.join(ROOT, '.dockerignore'), 'utf8').split('\n');
    for (const entry of ['node_modules', 'dist', '.data']) assert.ok(ignored.includes(entry), `.dockerignore ${entry}`);
  });
});
