#!/usr/bin/env bash
# The peer comparison, in one run on the same rules and messages, one core each:
#   python-re-loop     every pattern (Python `re`, compiled once) tried on every message
#   node-regexp-loop   the same with Node `RegExp`
#   hyperscan          PyPI `hyperscan`, block mode, database compiled once, one scan per message
#   civic-router       the compiled RuleSet (`evaluate`, and `fired_ids`)
# Every engine gets the same patterns over the same normalised text (patterns.json,
# normalized.txt) and reports its (message, pattern) hits on the first K messages, which must
# agree. Usage: benches/compare/run.sh [RULE_COUNTS...]   (default: 100 1000)
# Environment: MESSAGES (20000), SECS per engine (3), CHECK (1000), SEED (42).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../.." && pwd)"
cd "$root"
target="${CARGO_TARGET_DIR:-$root/target}"
out="$root/target/compare"
venv="$root/target/bench-venv"
messages="${MESSAGES:-20000}"
secs="${SECS:-3}"
check="${CHECK:-1000}"
seed="${SEED:-42}"
counts=("$@")
[ ${#counts[@]} -eq 0 ] && counts=(100 1000)

cargo build --release -q -p civic-router-benches --bin civic-bench
bench="$target/release/civic-bench"
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q hyperscan
fi
pin=()
command -v taskset >/dev/null && pin=(taskset -c "$(( $(nproc) - 1 ))")

mkdir -p "$out"
results="$out/results.jsonl"
: > "$results"
for n in "${counts[@]}"; do
  dir="$out/r$n"
  "$bench" dump --rules "$n" --messages "$messages" --seed "$seed" --out "$dir" 2>/dev/null
  {
    "${pin[@]}" "$bench" measure --dir "$dir" --seconds "$secs" --check "$check"
    (cd "$here" && "${pin[@]}" "$venv/bin/python" hyperscan_scan.py "$dir" "$secs" "$check")
    (cd "$here" && "${pin[@]}" node regexp_loop.js "$dir" "$secs" "$check")
    (cd "$here" && "${pin[@]}" "$venv/bin/python" re_loop.py "$dir" "$secs" "$check")
  } | sed "s/^{/{\"rules_n\": $n, /" >> "$results"
done
python3 "$here/report.py" "$results"
