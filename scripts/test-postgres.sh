#!/usr/bin/env bash
# PostgreSQL store: the conformance suite, migrations, statement timeouts, several
# instances racing on one database (core/tests/postgres.rs), and four ingest processes with
# relays, one killed (cli/tests/postgres_processes.rs), against a real server.
# Runs when CIVIC_ROUTER_POSTGRES_URL is set (.ci/run sets it to the test machine's server,
# postgres://postgres@127.0.0.1:5432/test); otherwise says clearly that it skipped them.
# Each run works in schemas of its own and drops them.
# Usage: CIVIC_ROUTER_POSTGRES_URL=postgres://user@host:5432/db ./scripts/test-postgres.sh
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -z "${CIVIC_ROUTER_POSTGRES_URL:-}" ]; then
  echo "==> PostgreSQL tests SKIPPED: CIVIC_ROUTER_POSTGRES_URL is not set."
  echo "    To run them, start a server (README: 'PostgreSQL') and set, for example,"
  echo "    CIVIC_ROUTER_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/test"
  exit 0
fi
echo "--> server: $(echo "$CIVIC_ROUTER_POSTGRES_URL" | sed -E 's#(://[^:/@]+):[^@]*@#\1:***@#')"
cargo test -p civic-router --features postgres,sqlite,delivery --test postgres -- --test-threads 2
# processes: 4 `civic-router ingest` + relay passes (one SIGKILLed) on one database
cargo test -p civic-router-cli --test postgres_processes -- --nocapture
echo "==> postgres store: all checks passed"
