#!/usr/bin/env bash
# Runs every channel fuzz target in turn, seeded with the channel fixtures.
#   fuzz/run-all.sh [SECONDS_PER_TARGET]     (default 600)
# One in-process libFuzzer run per target (the single-job equivalent of -jobs=1, with its
# statistics in the log). Needs nightly and cargo-fuzz (`cargo install cargo-fuzz`). Logs go to fuzz/logs/.
set -euo pipefail
cd "$(dirname "$0")"
secs="${1:-600}"
fx=../core/tests/fixtures/channels
mkdir -p logs
for t in whatsapp twilio open311 web segments; do mkdir -p "corpus/$t"; done
cp "$fx"/whatsapp/*.json corpus/whatsapp/
for f in "$fx"/sms/*.form "$fx"/voice/*.form; do
  { printf 'https://010.sevilla.example/sms/inbound\n'; cat "$f"; } > "corpus/twilio/$(basename "$f")"
done
for f in "$fx"/open311/*.form; do sed 's/^api_key=[^&]*&//' "$f" > "corpus/open311/$(basename "$f")"; done
cp "$fx"/web/*.json corpus/web/
printf '%s' 'Su cita está confirmada. ¿Algo más? 😀 {€} “hola” 1ª…' > corpus/segments/seed.txt
for t in whatsapp twilio open311 web segments; do
  echo "== $t ($secs s)"
  cargo +nightly fuzz run "$t" -- -max_total_time="$secs" -print_final_stats=1 \
    > "logs/$t.log" 2>&1 || { echo "$t FAILED: see fuzz/logs/$t.log"; exit 1; }
  grep -E "^Done|stat::number_of_executed_units" "logs/$t.log" | tail -2
done
