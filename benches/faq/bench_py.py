"""The Python peers on the same knowledge base and questions, one question at a time:
`bm25s` (sparse-matrix BM25, Snowball Spanish stemmer from PyStemmer, Spanish stop words) and
`rank-bm25` (BM25Okapi, lower-case word tokens). Each indexes the entry's questions and keywords,
as civic-router does, and returns the best entry for each question. Prints one JSON line per
system."""

import json
import re
import sys
import time

import bm25s
import numpy as np
import Stemmer
from rank_bm25 import BM25Okapi

entries_path, questions_path = sys.argv[1:3]
rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 3
entries = json.load(open(entries_path, encoding="utf-8"))["entry"]
questions = [q for q in open(questions_path, encoding="utf-8").read().splitlines() if q.strip()]
docs = [" ".join(e["questions"] + e.get("keywords", [])) for e in entries]


def best_time(fn):
    fn()  # warm-up
    best = float("inf")
    for _ in range(rounds):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


# bm25s
stemmer = Stemmer.Stemmer("spanish")
t = time.perf_counter()
retriever = bm25s.BM25()
retriever.index(bm25s.tokenize(docs, stopwords="es", stemmer=stemmer, show_progress=False),
                show_progress=False)
index_s = time.perf_counter() - t


def run_bm25s():
    for q in questions:
        toks = bm25s.tokenize([q], stopwords="es", stemmer=stemmer, show_progress=False)
        if toks.vocab:
            retriever.retrieve(toks, k=1, show_progress=False, n_threads=1)


s = best_time(run_bm25s)
print(json.dumps({"system": "bm25s " + bm25s.__version__, "entries": len(docs), "questions": len(questions),
                  "index_seconds": round(index_s, 3), "us_per_question": round(s * 1e6 / len(questions), 3)}))
sys.stdout.flush()

# rank-bm25
word = re.compile(r"\w+")
t = time.perf_counter()
okapi = BM25Okapi([word.findall(d.lower()) for d in docs])
index_s = time.perf_counter() - t
few = questions[: max(1, len(questions) // 4)]


def run_rank():
    for q in few:
        int(np.argmax(okapi.get_scores(word.findall(q.lower()))))


rounds = 1
s = best_time(run_rank)
print(json.dumps({"system": "rank-bm25 0.2.2", "entries": len(docs), "questions": len(few),
                  "index_seconds": round(index_s, 3), "us_per_question": round(s * 1e6 / len(few), 3)}))
