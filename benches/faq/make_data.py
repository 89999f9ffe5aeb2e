"""Builds the retrieval benchmark's data: a knowledge base of N entries (the Seville example's
entries first, then synthetic ones whose questions are drawn from the Spanish vocabulary of the
example knowledge base and of the corpus, with a Zipf-like word frequency) and the questions
(every message text of the corpus, one a line). Standard library only; deterministic (seed)."""

import json
import random
import re
import sys
import tomllib

faq_path, corpus_path, n, out_entries, out_questions = sys.argv[1:6]
n = int(n)
rng = random.Random(8)

with open(faq_path, "rb") as f:
    real = tomllib.load(f)["entry"]
texts = [json.loads(line)["text"] for line in open(corpus_path, encoding="utf-8") if line.strip()]

counts = {}
for t in [q for e in real for q in e["questions"]] + [e["answer"] for e in real] + texts:
    for w in re.findall(r"\w+", t.lower()):
        counts[w] = counts.get(w, 0) + 1
vocab = sorted(counts, key=lambda w: (-counts[w], w))
weights = [1.0 / (r + 1) ** 0.9 for r in range(len(vocab))]
categories = sorted({e["category"] for e in real})

entries = []
for e in real:
    entries.append({k: e[k] for k in ("id", "category", "questions", "answer") if k in e})
i = 0
while len(entries) < n:
    i += 1
    qs = []
    for _ in range(rng.randint(2, 5)):
        words = rng.choices(vocab, weights=weights, k=rng.randint(5, 12))
        qs.append(" ".join(words))
    entries.append({
        "id": f"synthetic-{i}",
        "category": rng.choice(categories),
        "questions": qs,
        "answer": "Respuesta de ejemplo.",
    })

json.dump({"entry": entries}, open(out_entries, "w", encoding="utf-8"), ensure_ascii=False)
with open(out_questions, "w", encoding="utf-8") as f:
    for t in texts:
        f.write(t.replace("\n", " ") + "\n")
print(f"{len(entries)} entries ({len(real)} real), {len(texts)} questions, vocabulary {len(vocab)} words",
      file=sys.stderr)
