#!/usr/bin/env bash
# Classification compared, in one run, on the same stratified folds of one labelled corpus:
# civic-router (the model alone, and rules + model as the Seville configuration runs them),
# scikit-learn tf-idf + logistic regression, and nlp.js.
# Usage: benches/classify/run.sh [CORPUS.jsonl]   (default: ../shared/corpus/dev.jsonl)
set -euo pipefail
cd "$(dirname "$0")/../.."
corpus="${1:-../shared/corpus/dev.jsonl}"
out=target/classify
mkdir -p "$out"
cargo build -q --release -p civic-router-cli
bin=target/release/civic-router
# the model alone: a configuration with the Seville categories and no rules
python3 - "$out/model-only.toml" <<'PY'
import re, sys
src = open("examples/sevilla/router.toml", encoding="utf-8").read()
cats = re.search(r"\[categories\]\n(.*?)\n\n", src, re.S).group(1)
open(sys.argv[1], "w").write(
    "[router]\nhandoff_below = 0.0\n\n[categories]\n" + cats +
    "\n\n[[department]]\nid = \"d\"\nname = \"d\"\n\n[routing]\ndefault = \"d\"\n")
PY
"$bin" eval --cv 5 --json --folds-out "$out/folds.jsonl" --config "$out/model-only.toml" "$corpus" > "$out/civic-model.json"
"$bin" eval --cv 5 --json --config examples/sevilla/router.toml "$corpus" > "$out/civic-rules-model.json"
if [ ! -x target/classify-venv/bin/python ]; then
  python3 -m venv target/classify-venv
  target/classify-venv/bin/pip install -q scikit-learn
fi
target/classify-venv/bin/python benches/classify/sklearn_baseline.py "$corpus" "$out/folds.jsonl" > "$out/sklearn.json"
(cd benches/classify && npm install --silent --no-audit --no-fund >/dev/null)
node benches/classify/nlpjs_baseline.js "$corpus" "$out/folds.jsonl" > "$out/nlpjs.json"
python3 - "$out" <<'PY'
import json, sys, os
d = sys.argv[1]
rows = [("civic-router model alone", "civic-model.json"), ("civic-router rules + model (Seville)", "civic-rules-model.json"),
        ("scikit-learn tf-idf + LR", "sklearn.json"), ("nlp.js NluNeural", "nlpjs.json")]
base = json.load(open(os.path.join(d, "sklearn.json")))["messages_per_second"]
print(f"{'engine':40} {'intent':>7} {'category':>9} {'cat F1':>7} {'emerg R':>8} {'msg/s':>10} {'vs sklearn':>10}")
for name, f in rows:
    r = json.load(open(os.path.join(d, f)))
    mps = r["messages_per_second"]
    print(f"{name:40} {r['intent_accuracy']:7.3f} {r['category_accuracy']:9.3f} {r['category_macro_f1']:7.3f} {r['emergency_recall']:8.3f} {mps:10,.0f} {mps/base:9.0f}x")
PY
