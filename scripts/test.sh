#!/usr/bin/env bash
# Runs every test of the project: Rust (fmt, clippy, unit, integration, doctests), then the
# Python and Node bindings, and the channel fixtures against independent tools. Installs what it needs from the package registries.
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
# the channel fixtures checked by tools independent of civic-router (Meta's schema, Python's
# hmac, twilio's RequestValidator)
echo "==> scripts/check-channel-fixtures.sh"
bash scripts/check-channel-fixtures.sh
echo "==> all test suites passed"
