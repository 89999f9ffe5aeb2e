#!/usr/bin/env bash
# Knowledge-base retrieval: civic-router vs bm25s and rank-bm25 (PyPI) on the same 10,000
# entries and the same questions, one question at a time, in one run.
#
#   benches/faq/run.sh [ENTRIES]        (default 10000)
#
# Creates a venv under target/faq-bench-venv (bm25s, rank-bm25, PyStemmer), the data under
# target/faq-bench/, builds the Rust side in release, prints one JSON line per system and the
# ratios. Times are the best of several rounds over every question (rank-bm25: one round over
# a quarter of them: it scores every entry for every question).
set -euo pipefail
cd "$(dirname "$0")/../.."
N="${1:-10000}"
OUT=target/faq-bench
VENV=target/faq-bench-venv
mkdir -p "$OUT"
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
"$VENV/bin/python" -c "import bm25s, rank_bm25, Stemmer" 2>/dev/null ||
  "$VENV/bin/pip" install -q "bm25s==0.3.16" "rank-bm25==0.2.2" "PyStemmer==3.1.0" numpy scipy
CORPUS="${CORPUS:-../shared/corpus/dev.jsonl}"
[ -f "$CORPUS" ] || CORPUS=/work/shared/corpus/dev.jsonl
python3 benches/faq/make_data.py examples/sevilla/faq.toml "$CORPUS" "$N" "$OUT/entries.json" "$OUT/questions.txt"
cargo build --release -q -p civic-router --example faq_bench
{
  target/release/examples/faq_bench "$OUT/entries.json" "$OUT/questions.txt" 5
  "$VENV/bin/python" benches/faq/bench_py.py "$OUT/entries.json" "$OUT/questions.txt" 3
} | tee "$OUT/results.jsonl"
python3 - "$OUT/results.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
ours = next(r for r in rows if r["system"] == "civic-router")
print(f"\n{'system':<22} {'entries':>8} {'µs/question':>12} {'civic-router is':>16}")
for r in rows:
    ratio = r["us_per_question"] / ours["us_per_question"]
    print(f"{r['system']:<22} {r['entries']:>8} {r['us_per_question']:>12.1f} {ratio:>15.1f}×")
PY
