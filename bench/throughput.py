"""Throughput of text detection + scoring, against a bare compiled-regex scan.

Builds >= 10,000 vignettes of 40-400 words by recombining the sentences of the bundled
vignettes (seeded), then, in one run and one process:

* ``score(explain=False)``: what ``score_frame`` and the CLI do per vignette (ConText,
  requirements, decision rules, rationale);
* ``score(explain=True)``: what the widgets do (every match reported, unsupported ones too);
* baseline: one compiled regex of the rubric's trigger keywords (every literal word of its
  term lists: harm verbs, weapons, times, relations...) scanned with ``finditer`` — a bare
  keyword scan with no sentences, cues or decisions.

Run: ``.venv/bin/python bench/throughput.py [--n 10000]``
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from casekit.io import read_vignettes  # noqa: E402
from casekit.matching import compile_rubric, sentence_spans  # noqa: E402
from casekit.model import Vignette  # noqa: E402
from casekit.rules import Rubric, literal_pattern, load_rubric  # noqa: E402
from casekit.scoring import score  # noqa: E402

_WORDISH = re.compile(r"^[a-z' -]+$")


def make_corpus(n: int, seed: int = 2026) -> list[Vignette]:
    """``n`` vignettes of 40-400 words, recombined from bundled sentences."""
    sentences = []
    for v in read_vignettes(ROOT / "data" / "vignettes"):
        sentences += [v.text[s:e] for s, e in sentence_spans(v.text)]
    rng = random.Random(seed)
    corpus = []
    for i in range(n):
        target = rng.randint(40, 400)
        parts: list[str] = []
        words = 0
        while words < target:
            s = rng.choice(sentences)
            parts.append(s)
            words += len(s.split())
        corpus.append(Vignette(id=f"B{i:05d}", text=" ".join(parts)))
    return corpus


def keyword_regex(rubric_id: str = "duty_to_protect") -> re.Pattern[str]:
    """The rubric's literal trigger words, as one word-bounded alternation."""
    rubric = load_rubric(rubric_id)
    words = {alt for _, alts in rubric.terms for alt in alts if _WORDISH.match(alt)}
    return re.compile(literal_pattern(sorted(words)))


def rate(label: str, n: int, seconds: float) -> float:
    per_s = n / seconds
    print(f"{label:<44} {per_s:>10,.0f} vignettes/s  ({seconds:.3f} s)")
    return per_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3, help="best of N timings")
    args = parser.parse_args()

    corpus = make_corpus(args.n)
    texts = [v.text for v in corpus]
    lengths = sorted(len(t.split()) for t in texts)
    print(
        f"{len(corpus):,} vignettes, words min/median/max "
        f"{lengths[0]}/{lengths[len(lengths) // 2]}/{lengths[-1]}, "
        f"{sum(lengths) / len(lengths):.0f} mean"
    )
    rubric = load_rubric("duty_to_protect")
    score(corpus[0], rubric)  # compile once, outside the timings
    kw = keyword_regex()

    def best(fn) -> float:  # type: ignore[no-untyped-def]
        times = []
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            fn()
            times.append(time.perf_counter() - t0)
        return min(times)

    def bare() -> None:
        for t in texts:
            for _ in kw.finditer(t.lower()):
                pass

    def fast() -> None:
        for v in corpus:
            score(v, rubric, explain=False)

    def full() -> None:
        for v in corpus:
            score(v, rubric, explain=True)

    base = rate("baseline: bare keyword regex scan", len(texts), best(bare))
    f = rate("casekit score(explain=False) [bulk, CLI]", len(corpus), best(fast))
    e = rate("casekit score(explain=True)  [widgets]", len(corpus), best(full))
    print(f"ratio to baseline: bulk {f / base:.2f}, explain {e / base:.2f}")
    print(f"keyword alternatives in baseline: {kw.pattern.count('|') + 1}")
    profile(corpus[:2000], rubric, best)


def profile(corpus: list[Vignette], rubric: Rubric, best: Any) -> None:
    """Where the bulk path spends its time, in microseconds per vignette."""
    matcher = compile_rubric(rubric)
    texts = [v.text for v in corpus]
    lowered = [t.lower() for t in texts]
    trigger = getattr(matcher, "_trigger", None)
    parts = {
        "sentence split": lambda: [sentence_spans(t) for t in texts],
        "trigger scan": (lambda: [trigger.candidates(t) for t in lowered]) if trigger else None,
        "find(explain=False)": lambda: [matcher.find(t, explain=False) for t in texts],
        "score(explain=False)": lambda: [score(v, rubric, explain=False) for v in corpus],
    }
    cost = {name: best(fn) / len(corpus) * 1e6 for name, fn in parts.items() if fn}
    print(
        f"profile, us per vignette (first {len(corpus):,}): "
        + ", ".join(f"{name} {us:.0f}" for name, us in cost.items())
    )


if __name__ == "__main__":
    main()
