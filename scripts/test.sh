#!/usr/bin/env bash
# Runs every test of the project: Rust (fmt, clippy, unit, integration, doctests), then the
# Python and Node bindings. Installs what it needs from the package registries.
# Usage: ./scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
for part in rust python node postgres; do
  script="scripts/test-$part.sh"
  if [ -f "$script" ]; then
    echo "==> $script"
    bash "$script"
  fi
done
echo "==> all test suites passed"
