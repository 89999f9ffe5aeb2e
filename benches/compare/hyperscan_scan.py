"""The state of the art in multi-pattern matching: Hyperscan (PyPI `hyperscan`), block mode,
the database compiled once, one scan per message. Two runs: every pattern reported once per
message (HS_FLAG_SINGLEMATCH, Hyperscan's fastest way to ask "which patterns match"), and every
match reported (no flag). Prints one JSON line per run (see run.sh)."""
import json
import sys

import hyperscan

from common import load, timed_loop

def main():
    directory, seconds, check = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
    patterns, texts = load(directory)
    data = [t.encode("ascii") for t in texts]
    for name, flag in (("hyperscan", hyperscan.HS_FLAG_SINGLEMATCH), ("hyperscan-all-matches", 0)):
        db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
        db.compile(expressions=[p.encode("ascii") for p in patterns],
                   ids=list(range(len(patterns))),
                   elements=len(patterns),
                   flags=[flag] * len(patterns))
        seen = set()

        def on_match(pid, start, end, flags, context):
            seen.add(pid)

        def hits(text):
            seen.clear()
            db.scan(text, match_event_handler=on_match)
            return len(seen)

        rate, checked = timed_loop(data, hits, seconds, check)
        print(json.dumps({"engine": name, "msgs_per_sec": rate, "hits_first_k": checked,
                          "k": check, "patterns": len(patterns)}), flush=True)

if __name__ == "__main__":
    main()
