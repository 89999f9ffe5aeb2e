"""The baseline a city's Python team would build: scikit-learn TfidfVectorizer (word 1-2-grams
and character 3-5-grams) + LogisticRegression, one model for the intent and one for the
category, trained and scored on the same stratified folds as civic-router.

Usage: python sklearn_baseline.py CORPUS.jsonl FOLDS.jsonl
Prints one JSON object: accuracy, macro-F1, emergency recall, messages/second (one message at
a time, as a service calls it).
"""

import json
import sys
import time

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.pipeline import FeatureUnion, make_pipeline


def model():
    features = FeatureUnion([
        ("word", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, strip_accents="unicode")),
        ("char", TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True, strip_accents="unicode")),
    ])
    return make_pipeline(features, LogisticRegression(max_iter=2000, C=10.0))


def main():
    corpus = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8") if l.strip()]
    folds = {d["id"]: d["fold"] for d in (json.loads(l) for l in open(sys.argv[2]) if l.strip())}
    k = max(folds.values()) + 1
    gold_i, gold_c, pred_i, pred_c = [], [], [], []
    elapsed, n = 0.0, 0
    for f in range(k):
        train = [m for m in corpus if folds[m["id"]] != f]
        test = [m for m in corpus if folds[m["id"]] == f]
        texts = [m["text"] for m in train]
        mi = model().fit(texts, [m["intent"] for m in train])
        mc = model().fit(texts, [m["category"] for m in train])
        for m in test:
            t0 = time.perf_counter()
            i = mi.predict([m["text"]])[0]
            c = mc.predict([m["text"]])[0]
            elapsed += time.perf_counter() - t0
            n += 1
            pred_i.append(i)
            pred_c.append(c)
            gold_i.append(m["intent"])
            gold_c.append(m["category"])
    emerg = [p == "emergency" for g, p in zip(gold_i, pred_i) if g == "emergency"]
    print(json.dumps({
        "engine": "scikit-learn tf-idf + logistic regression",
        "messages": n,
        "intent_accuracy": sum(g == p for g, p in zip(gold_i, pred_i)) / n,
        "category_accuracy": sum(g == p for g, p in zip(gold_c, pred_c)) / n,
        "category_macro_f1": f1_score(gold_c, pred_c, average="macro"),
        "emergency_recall": sum(emerg) / max(len(emerg), 1),
        "messages_per_second": n / elapsed,
    }))


if __name__ == "__main__":
    main()
