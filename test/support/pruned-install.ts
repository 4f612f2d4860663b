/** The commands a production install runs, in order: the Dockerfile's runtime stage and the pruned-install test run these. */
// npm prune --omit=dev keeps TypeScript and ts-node (TypeORM names ts-node as an optional peer): prune:compilers drops them.
export const PRUNED_INSTALL_COMMANDS = [
  'npm ci --no-audit --no-fund',
  'npm run build',
  'npm prune --omit=dev',
  'npm run prune:compilers',
] as const;

/** How a pruned install starts the server. */
export const PRODUCTION_START_COMMAND = 'npm run start:prod';
