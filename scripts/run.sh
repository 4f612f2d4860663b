#!/bin/sh
# Runs one of the project's commands: from the TypeScript sources under ts-node in development,
# and from the compiled dist/ when NODE_ENV=production or ts-node is not installed (a production
# install pruned with `npm prune --omit=dev`), so that production never compiles anything.
#   sh scripts/run.sh typeorm <args>         TypeORM's CLI on ormconfig.ts, or on dist/ormconfig.js
#   sh scripts/run.sh scripts/<name> <args>  scripts/<name>.ts, or dist/scripts/<name>.js
set -e
command="$1"
shift
if [ "$NODE_ENV" != production ] && [ -f node_modules/ts-node/package.json ]; then
  if [ "$command" = typeorm ]; then exec typeorm-ts-node-commonjs -d ormconfig.ts "$@"; fi
  exec ts-node "$command.ts" "$@"
fi
if [ ! -f dist/ormconfig.js ]; then
  echo "dist/ has not been built: run \`npm run build\` first (this install runs compiled code only)" >&2
  exit 1
fi
if [ "$command" = typeorm ]; then exec typeorm -d dist/ormconfig.js "$@"; fi
exec node "dist/$command.js" "$@"
