# syntax=docker/dockerfile:1
# The production image: compiled JavaScript on a pruned install, run by an unprivileged user.
# The build stage runs the pruned-install commands (test/support/pruned-install.ts), which the
# test suite also runs on a pruned copy of the project; test/deploy/dockerfile.test.ts holds the two equal.
ARG NODE_IMAGE=node:20.20.2-bookworm-slim

FROM ${NODE_IMAGE} AS node
# npm 11 runs only the install scripts package.json's allowScripts allows; the image's npm 10 would run them all.
RUN npm install --global npm@11.19.1

# Build with the development dependencies (TypeScript), then drop them.
FROM node AS build
WORKDIR /app
COPY package.json package-lock.json tsconfig.json ormconfig.ts ./
COPY tools ./tools
COPY src ./src
COPY scripts ./scripts
RUN npm ci --no-audit --no-fund
RUN npm run build
RUN npm prune --omit=dev
RUN npm run prune:compilers

# What runs: the pruned node_modules and dist/, read-only to the user that runs them.
FROM node AS runtime
ENV NODE_ENV=production \
    NPM_CONFIG_UPDATE_NOTIFIER=false
WORKDIR /app
COPY --from=build /app/package.json /app/package-lock.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
USER node
EXPOSE 4000
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch(`http://127.0.0.1:${process.env.PORT || 4000}/readyz`).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# npm passes SIGTERM on to the server (the script execs node), which then shuts down as docs/deploying.md says.
CMD ["npm", "run", "start:prod"]
