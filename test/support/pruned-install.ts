/** The commands a production install runs, in order: the Dockerfile's runtime stage and the pruned-install test run these. */
export const PRUNED_INSTALL_COMMANDS = ['npm ci --no-audit --no-fund', 'npm run build', 'npm prune --omit=dev'] as const;

/** How a pruned install starts the server. */
export const PRODUCTION_START_COMMAND = 'npm run start:prod';
