"""How fast the widgets respond: filter changes over 10,000 cases, WhatIf rescoring.

    python bench/widgets.py [--cases 10000] [--repeat 30] [--seed 0]

Targets (issue #5): a filter change re-renders in under 100 ms with 10,000 cases; one
WhatIf rescoring (one debounced batch of keystrokes) takes under 50 ms. The 10,000 cases are
built by recombining sentences of the bundled vignettes (seeded), so texts look like real
cases and trigger the same patterns. Times are the Python handlers as the kernel runs them
(set a control's value, the observer filters and renders); the browser adds the widget
message round trip on top.
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from casekit.io import read_vignettes
from casekit.model import DIFFICULTIES, Vignette
from casekit.widgets import CaseExplorer, WhatIf, data_dir

SENTENCE = re.compile(r"(?<=[.!?\"])\s+(?=[A-Z\"])")


def synthetic_cases(n: int, seed: int = 0) -> list[Vignette]:
    """``n`` cases made of 3–6 sentences drawn from different bundled vignettes."""
    rng = random.Random(seed)
    source = read_vignettes(data_dir() / "vignettes")
    sentences = [(s, v) for v in source for s in SENTENCE.split(v.text) if s.strip()]
    cases = []
    for i in range(n):
        picked = rng.sample(sentences, rng.randint(3, 6))
        tags = sorted({t for _, v in picked for t in v.tags if rng.random() < 0.5})
        cases.append(
            Vignette(
                id=f"SYN-{i:05d}",
                title=f"Recombined case {i}",
                text=" ".join(s for s, _ in picked),
                tags=tuple(tags),
                difficulty=rng.choice(DIFFICULTIES),
            )
        )
    return cases


def timed(action: Callable[[], object], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        out.append((time.perf_counter() - start) * 1000)
    return out


def report(name: str, ms: Sequence[float], limit: float) -> bool:
    ok = max(ms) < limit
    print(
        f"{name:<46} median {statistics.median(ms):7.2f} ms   max {max(ms):7.2f} ms   "
        f"(n={len(ms)}, target < {limit:.0f} ms: {'ok' if ok else 'MISSED'})"
    )
    return ok


def bench_explorer(cases: list[Vignette], repeat: int) -> bool:
    start = time.perf_counter()
    explorer = CaseExplorer(cases, ["duty_to_protect"])
    print(f"explorer: first scoring of {len(cases):,} cases (once per rubric x jurisdiction): "
          f"{time.perf_counter() - start:.1f} s")  # fmt: skip
    all_tags = list(explorer.tags.options)
    rng = random.Random(1)
    ok = True

    def toggle(widget: object, a: object, b: object) -> Callable[[], None]:
        def run() -> None:
            widget.value = b if widget.value == a else a  # type: ignore[attr-defined]

        return run

    ok &= report("filter: duty any <-> required", timed(toggle(explorer.duty, "any", "required"),
                                                         repeat), 100)  # fmt: skip
    ok &= report("filter: difficulty any <-> advanced",
                 timed(toggle(explorer.difficulty, "any", "advanced"), repeat), 100)  # fmt: skip
    tag = (rng.choice(all_tags),)
    ok &= report("filter: tag on/off", timed(toggle(explorer.tags, (), tag), repeat), 100)
    ok &= report("filter: fired threat+victim on/off",
                 timed(toggle(explorer.fired, (), ("threat_communicated", "identifiable_victim")),
                       repeat), 100)  # fmt: skip
    ok &= report("filter: not fired imminent on/off",
                 timed(toggle(explorer.not_fired, (), ("imminent",)), repeat), 100)  # fmt: skip
    words = ["gun", "sister", "tonight", "knife", "police", "zzzz"]
    it = iter(words * repeat)

    def search() -> None:
        explorer.search.value = next(it)

    ok &= report("filter: free-text search (one word)", timed(search, repeat), 100)
    explorer.search.value = ""
    ok &= report("sort: id <-> criteria fired, descending",
                 timed(toggle(explorer.sort_by, "id", "criteria fired"), repeat), 100)  # fmt: skip
    explorer.jurisdiction.value = "TX"  # scored once here, cached afterwards
    ok &= report("jurisdiction as written <-> TX (cached)",
                 timed(toggle(explorer.jurisdiction, "TX", "as written"), repeat), 100)  # fmt: skip
    explorer.page.value = 1
    picks = iter(rng.sample(range(len(cases)), repeat))
    ok &= report("open a case (scored with evidence, first time)",
                 timed(lambda: explorer.open_case(next(picks)), repeat), 100)  # fmt: skip
    return ok


def bench_whatif(cases: list[Vignette], repeat: int) -> bool:
    longest = max(read_vignettes(data_dir() / "vignettes"), key=lambda v: len(v.text))
    w = WhatIf(longest, debounce=0.3)
    texts = [c.text for c in cases[: repeat * 2]] + [longest.text]
    it = iter(texts)

    def edit() -> None:
        w.text.value = next(it)  # a debounced batch of keystrokes ...
        w.flush()  # ... then the rescoring it triggers

    ok = report("WhatIf: rescore + redraw after a text edit", timed(edit, len(texts)), 50)
    print(f"  (longest bundled vignette: {len(longest.text)} characters, {longest.id})")
    flips = iter(["yes", "no", "from text"] * repeat)

    def flip() -> None:
        w.facts["imminent"].value = next(flips)

    ok &= report("WhatIf: toggle a fact", timed(flip, repeat), 50)
    return ok


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    cases = synthetic_cases(args.cases, args.seed)
    print(f"{len(cases):,} recombined cases, mean {statistics.mean(len(c.text) for c in cases):.0f}"
          f" characters ({Path(__file__).name}, seed {args.seed})")  # fmt: skip
    ok = bench_explorer(cases, args.repeat)
    ok &= bench_whatif(cases, args.repeat)
    print("all targets met" if ok else "some targets MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
