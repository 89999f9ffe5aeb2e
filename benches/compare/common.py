"""Shared by the Python peers: load the dumped workload, time a per-message function."""
import json
import os
import time

def load(directory):
    with open(os.path.join(directory, "patterns.json")) as f:
        patterns = json.load(f)
    with open(os.path.join(directory, "normalized.txt")) as f:
        texts = f.read().split("\n")
    if texts and texts[-1] == "":
        texts.pop()
    return patterns, texts

def timed_loop(texts, per_message, seconds, check):
    """Runs `per_message` over the messages in order, round and round, until `seconds` have
    passed and at least `check` messages were seen. Returns (messages per second, the sum of
    `per_message` over the first `check` messages)."""
    done = 0
    checked = 0
    n = len(texts)
    start = time.perf_counter()
    while True:
        for i in range(n):
            r = per_message(texts[i])
            if done + i < check:
                checked += r
            if (i & 63) == 63 and done + i + 1 >= check and time.perf_counter() - start >= seconds:
                done += i + 1
                return done / (time.perf_counter() - start), checked
        done += n
        if done >= check and time.perf_counter() - start >= seconds:
            return done / (time.perf_counter() - start), checked
