"""The loop a municipal service writes by hand: every pattern, compiled once, tried on every
message with Python's `re`. Prints one JSON line (see run.sh)."""
import json
import re
import sys
import time

from common import load, timed_loop

def main():
    directory, seconds, check = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
    patterns, texts = load(directory)
    compiled = [re.compile(p, re.ASCII) for p in patterns]

    def hits(text):
        n = 0
        for r in compiled:
            if r.search(text):
                n += 1
        return n

    rate, checked = timed_loop(texts, hits, seconds, check)
    print(json.dumps({"engine": "python-re-loop", "msgs_per_sec": rate,
                      "hits_first_k": checked, "k": check, "patterns": len(patterns)}))

if __name__ == "__main__":
    main()
