"""Prints the comparison table from run.sh's results.jsonl, with the ratios civic-router/peer
and the targets of issue 2."""
import json
import sys

rows = [json.loads(line) for line in open(sys.argv[1]) if line.strip()]
by_n = {}
for r in rows:
    by_n.setdefault(r["rules_n"], {})[r["engine"]] = r

ok = True
for n, engines in sorted(by_n.items()):
    civic = engines["civic-router"]
    pats = civic["patterns"]
    print(f"\n{n} rules, {pats} distinct patterns, {civic['messages']} messages (one core)")
    print(f"  {'engine':<34}{'msg/s':>14}{'civic evaluate / it':>22}{'hits (first ' + str(civic['k']) + ')':>20}")
    lines = [("civic-router evaluate", civic["msgs_per_sec"], civic["hits_first_k"]),
             ("civic-router fired_ids", civic["msgs_per_sec_fired_ids"], civic["hits_first_k"])]
    for name in ("hyperscan", "hyperscan-all-matches", "node-regexp-loop", "python-re-loop"):
        if name in engines:
            e = engines[name]
            lines.append((name, e["msgs_per_sec"], e["hits_first_k"]))
    for name, rate, hits in lines:
        print(f"  {name:<34}{rate:>14,.0f}{civic['msgs_per_sec'] / rate:>21.1f}x{hits:>20}")
    if len({h for _, _, h in lines}) != 1:
        print("  !! the engines disagree on the hits: the comparison is not valid")
        ok = False
    mb = civic["compiled_bytes"] / 2**20
    used = civic["bytes_after_use"] / 2**20
    print(f"  heap of the compiled set: {mb:.1f} MB after compiling, {used:.1f} MB after use")
    targets = []
    if n == 100:
        targets.append(("evaluate >= 1,000,000 msg/s", civic["msgs_per_sec"] >= 1e6))
    if n == 1000:
        hs = max(engines.get("hyperscan", {}).get("msgs_per_sec", 0),
                 engines.get("hyperscan-all-matches", {}).get("msgs_per_sec", 0))
        targets += [
            (">= 4x Hyperscan", civic["msgs_per_sec"] >= 4 * hs),
            (">= 1,000x Python re loop", civic["msgs_per_sec"] >= 1000 * engines["python-re-loop"]["msgs_per_sec"]),
            (">= 200x Node RegExp loop", civic["msgs_per_sec"] >= 200 * engines["node-regexp-loop"]["msgs_per_sec"]),
            ("compiled set < 64 MB", used < 64),
        ]
    for t, met in targets:
        print(f"  target {t:<32} {'met' if met else 'NOT met'}")
sys.exit(0 if ok else 1)
