#!/usr/bin/env bash
# Node binding: installs the npm dev dependencies (npm ci, from package-lock.json), builds the
# native module in release mode with @napi-rs/cli (which also regenerates index.js and
# index.d.ts; in a git checkout they must match the committed ones), type-checks the
# declarations and the TypeScript example with tsc, then runs the node --test suite
# (bindings-node/__test__: router, errors, plug-ins, concurrency, golden corpus, webhook
# example, npm pack check).
# Needs only Rust and Node >= 20 with npm; no terminal input (CI=true is fine).
# Usage: ./scripts/test-node.sh
set -euo pipefail
cd "$(dirname "$0")/../bindings-node"
export npm_config_audit=false npm_config_fund=false npm_config_update_notifier=false

echo "--> npm ci (dev dependencies; the package's own install hook is skipped: built below)"
CIVIC_ROUTER_SKIP_BUILD=1 npm ci

echo "--> napi build --platform --release (the first build takes a few minutes)"
npm run build

if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  echo "--> generated index.js / index.d.ts match the committed ones"
  git diff --exit-code -- index.js index.d.ts
fi

echo "--> tsc --noEmit (index.d.ts, examples/route.ts)"
npm run typecheck

echo "--> node --test __test__/"
RUST_BACKTRACE=0 npm test

echo "==> node binding: all checks passed"
