"""civic-router from Python: ``route`` one message at a time, against the same rules run as the
Python ``re`` loop a municipal service writes by hand (every pattern of every rule tried on
every message), and ``route_batch`` scaling with cores.

    python benches/python/bench_route.py            # after: pip install ./bindings-python

The rules are synthetic and generated here, deterministically: 100 rules over Spanish citizen
vocabulary, each with two word patterns and one regex (300 patterns), in all-match mode so both
sides report every rule that matches; the messages are 20,000 synthetic citizen messages of
15–30 words, about 60% of them naming something a rule knows. The script checks that both sides
find the same rules on the messages before it times anything.

``route_batch`` is timed in child processes with ``RAYON_NUM_THREADS`` = 1, 2, … up to the
number of cores (rayon reads it once, when its pool starts).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import subprocess
import sys
import time
import unicodedata
from typing import Any, Callable

from civic_router import Message, Router

TOPICS = [
    "farola", "alumbrado", "bache", "socavon", "acera", "contenedor", "basura", "colchon",
    "ruido", "botellon", "fuga", "tuberia", "alcantarilla", "arbol", "poda", "parque", "banco",
    "columpio", "semaforo", "senal", "trafico", "autobus", "parada", "grafiti", "pintada",
    "excremento", "perro", "rata", "cucaracha", "plaga", "andamio", "zanja", "humo", "olor",
    "inundacion", "charco", "atasco", "aparcamiento", "grua", "multa", "padron", "cita",
    "certificado", "impuesto", "recibo", "tasa", "licencia", "ayuda", "dependencia", "comedor",
    "taller", "curso", "biblioteca", "piscina", "polideportivo", "mercado", "cementerio",
    "fuente", "papelera", "escombro", "vertido", "mosquito", "paloma", "jardin", "cesped",
    "riego", "aspersor", "bordillo", "asfalto", "pavimento", "baldosa", "rampa", "escalera",
    "ascensor", "portal", "tapa", "registro", "cable", "poste", "antena", "toldo", "terraza",
    "velador", "musica", "fiesta", "obra", "camion", "furgoneta", "moto", "bicicleta", "carril",
    "patinete", "taxi", "metro", "tranvia", "peaton", "paso", "vado", "reserva", "bono",
    "empadronamiento", "vivienda", "alquiler", "desahucio", "mayores", "menores", "violencia",
]
QUALIFIERS = ["roto", "rota", "caido", "caida", "sucio", "sucia", "lleno", "llena", "apagado",
              "apagada", "atascado", "levantado", "suelto", "abandonado", "quemado", "peligroso"]
FILLER = ("hola buenas tardes mire le escribo porque en mi calle desde hace dias hay un problema "
          "que nadie arregla y los vecinos estamos hartos de llamar al ayuntamiento por favor "
          "pueden venir a verlo cuanto antes gracias esta mañana según me dijeron en el distrito "
          "tenía que mandar un mensaje con la dirección exacta está al lado del colegio junto a la "
          "plaza enfrente de la farmacia").split()

N_RULES = 100
N_MESSAGES = 20_000


def make_rules(seed: int = 7) -> list[dict[str, Any]]:
    """100 rules: two word patterns (one a prefix) and one regex each; no two rules alike."""
    rnd = random.Random(seed)
    rules = []
    for i in range(N_RULES):
        a, b, c = rnd.sample(TOPICS, 3)
        q = rnd.choice(QUALIFIERS)
        rules.append({
            "id": f"r{i:03d}",
            "words": [f"{a}*", b],
            "regex": rf"\b{c}s? (esta |estan )?{q}",
            "category": f"c{i % 10}",
        })
    return rules


def make_messages(rules: list[dict[str, Any]], seed: int = 11) -> list[dict[str, Any]]:
    rnd = random.Random(seed)
    channels = ["whatsapp", "sms", "app", "web", "voice"]
    out = []
    for i in range(N_MESSAGES):
        words = rnd.choices(FILLER, k=rnd.randint(15, 30))
        if rnd.random() < 0.6:
            r = rnd.choice(rules)
            kind = rnd.randint(0, 2)
            if kind == 0:
                hit = r["words"][0].rstrip("*") + rnd.choice(["", "s", "es"])
            elif kind == 1:
                hit = r["words"][1]
            else:
                m = re.match(r"\\b(\w+)s\? \(esta \|estan \)\?(\w+)", r["regex"])
                assert m, r["regex"]
                hit = f"{m.group(1)} esta {m.group(2)}"
            words.insert(rnd.randrange(len(words) + 1), hit.capitalize() if rnd.random() < 0.3 else hit)
        out.append({"id": f"m{i}", "channel": rnd.choice(channels), "text": " ".join(words)})
    return out


def config_toml(rules: list[dict[str, Any]]) -> str:
    lines = ['[router]', 'name = "bench"', 'mode = "all_match"', "", "[categories]", 'general = "General"']
    lines += [f'c{k} = "Category {k}"' for k in range(10)]
    lines += ["", "[[department]]", 'id = "d0"', 'name = "Default"', "", "[routing]", 'default = "d0"', ""]
    for r in rules:
        lines += [
            "[[rule]]",
            f'id = "{r["id"]}"',
            f"when.any = [{{ any_words = {json.dumps(r['words'])} }}, {{ any_text = [{json.dumps(r['regex'])}] }}]",
            f'then = {{ intent = "incident", category = "{r["category"]}" }}',
            "",
        ]
    return "\n".join(lines)


class ReLoop:
    """The hand-written service: lower-case the text, try every pattern of every rule."""

    def __init__(self, rules: list[dict[str, Any]]) -> None:
        self.rules: list[tuple[str, list[re.Pattern[str]]]] = []
        for r in rules:
            pats = [re.compile(r"\b" + re.escape(w[:-1]) + r"\w*", re.I) if w.endswith("*")
                    else re.compile(r"\b" + re.escape(w) + r"\b", re.I) for w in r["words"]]
            pats.append(re.compile(r["regex"], re.I))
            self.rules.append((r["id"], pats))

    def route(self, text: str) -> list[str]:
        # what a careful hand-written service also does: fold accents so "tubería" meets "tuberia"
        t = unicodedata.normalize("NFD", text.lower())
        t = "".join(ch for ch in t if not unicodedata.combining(ch))
        fired = []
        for rid, pats in self.rules:
            hit = False
            for p in pats:  # every pattern is tried: a service wants every hit for its log
                if p.search(t):
                    hit = True
            if hit:
                fired.append(rid)
        return fired


def rate(n: int, fn: Callable[[], Any], min_seconds: float = 1.0) -> float:
    """Messages per second of `fn` (which handles `n` messages), best of repeated runs."""
    best = float("inf")
    total = 0.0
    runs = 0
    while total < min_seconds or runs < 3:
        t0 = time.perf_counter()
        fn()
        dt = time.perf_counter() - t0
        best = min(best, dt)
        total += dt
        runs += 1
    return n / best


def batch_child(threads: int) -> None:
    rules = make_rules()
    msgs = make_messages(rules)
    router = Router.from_toml(config_toml(rules))
    objs = [Message.from_dict(m) for m in msgs]
    router.route_batch(objs[:1000])  # start the pool
    print(json.dumps({"threads": threads, "rate": rate(len(objs), lambda: router.route_batch(objs), 2.0)}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    ap.add_argument("--batch-child", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--re-messages", type=int, default=5_000, help="messages for the re loop")
    args = ap.parse_args()
    if args.batch_child:
        batch_child(args.batch_child)
        return

    rules = make_rules()
    msgs = make_messages(rules)
    router = Router.from_toml(config_toml(rules))
    loop = ReLoop(rules)
    n_patterns = sum(len(p) for _, p in loop.rules)

    agree = sum(loop.route(m["text"]) == router.route(m).rules for m in msgs)
    print(f"{len(rules)} rules, {n_patterns} patterns, {len(msgs)} messages; "
          f"the two sides find the same rules on {agree}/{len(msgs)} messages")
    if agree < 0.99 * len(msgs):
        sys.exit("error: the re loop and civic-router disagree; the comparison would be unfair")

    texts = [m["text"] for m in msgs[: args.re_messages]]
    re_rate = rate(len(texts), lambda: [loop.route(t) for t in texts])
    objs = [Message.from_dict(m) for m in msgs]
    route_dict = rate(len(msgs), lambda: [router.route(m) for m in msgs])
    route_obj = rate(len(objs), lambda: [router.route(m) for m in objs])
    route_read = rate(len(objs), lambda: [router.route(m).department for m in objs])

    print(f"{'':34}{'msg/s':>12}{'× re loop':>12}")
    print(f"{'Python re loop (every pattern)':34}{re_rate:>12,.0f}{1:>12.0f}")
    for name, r in [("route(dict), one at a time", route_dict),
                    ("route(Message), one at a time", route_obj),
                    ("route(Message).department", route_read)]:
        print(f"{name:34}{r:>12,.0f}{r / re_rate:>12.0f}")

    cores = os.cpu_count() or 1
    base = None
    for threads in sorted({1, *range(2, cores + 1)}):
        env = dict(os.environ, RAYON_NUM_THREADS=str(threads))
        out = subprocess.run([sys.executable, __file__, "--batch-child", str(threads)], env=env,
                             check=True, capture_output=True, text=True).stdout
        r = json.loads(out)["rate"]
        base = base or r
        print(f"{f'route_batch, {threads} thread(s)':34}{r:>12,.0f}{r / re_rate:>12.0f}"
              f"   ({r / base:.2f}× one thread)")


if __name__ == "__main__":
    main()
