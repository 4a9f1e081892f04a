"""Would keying on a pattern's rarest word make fewer anchored attempts? A probe, not a change.

The duty_to_protect matcher tries each alternative of a criterion at the positions where its
first word (its key) occurs, and most of those attempts fail (``bench/README.md``, eleventh
session). The plan left then was a Hyperscan-style filter: skip an attempt when none of the
alternative's required words occurs in the window its match could cover. This probe measures
what that filter would save, exactly, before anyone builds it:

- for every trigger-fed alternative, one set of literals every match must contain, read from
  its parse tree: the set the matcher already computes (the most selective by length), and the
  set whose words are rarest in the corpus;
- the window is the alternative's maximum width from the candidate position (or the rest of
  the text when the width is unbounded, as ``\\w+`` and ``.*?`` gaps make it);
- every attempt the filter would skip is checked to fail, so the probe also shows the filter
  is exact.

Run: ``.venv/bin/python bench/window_probe.py [--n 2000]``. It prints, per criterion, the
anchored attempts per vignette and their time, and how much of each the filter would skip.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from throughput import make_corpus  # noqa: E402

from casekit import matching  # noqa: E402
from casekit.rules import load_rubric  # noqa: E402

_sre = matching._sre
_parse = matching._sre_parse


def literal_sets(data: Iterable[tuple[Any, Any]]) -> list[set[str]]:
    """Sets of literals one of which every match contains (each set on its own suffices)."""
    found: list[set[str]] = []
    run = ""
    for op, av in data:
        if op is _sre.LITERAL:
            run += chr(av)
            continue
        if run:
            found.append({run})
            run = ""
        if op is _sre.SUBPATTERN:
            found += literal_sets(av[3].data)
        elif op is _sre.BRANCH:
            options = [literal_sets(alt.data) for alt in av[1]]
            if all(options):
                union: set[str] = set()
                for sets in options:
                    union |= max(sets, key=lambda s: min(map(len, s)))
                found.append(union)
        elif op in (_sre.MAX_REPEAT, _sre.MIN_REPEAT) and av[0] >= 1:
            found += literal_sets(av[2].data)
    if run:
        found.append({run})
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000)
    args = parser.parse_args()
    matcher = matching.compile_rubric(load_rubric("duty_to_protect"))
    corpus = make_corpus(args.n)
    sample = " ".join(v.text.lower() for v in corpus[:300])

    def frequency(words: set[str]) -> int:
        return sum(sample.count(w) for w in words)

    filters: dict[Any, dict[str, tuple[re.Pattern[str] | None, int]]] = {}
    bounded = 0
    for target in matcher.targets:
        search = target.search
        if search.mode != matching._TRIGGERED or not search.alternatives:
            continue
        for alt in search.alternatives:
            source = alt.__self__.pattern  # type: ignore[attr-defined]
            tree = _parse.parse(source)
            width = int(tree.getwidth()[1])
            bounded += width < _sre.MAXREPEAT
            usable = [s for s in literal_sets(tree.data) if all(len(w) >= 3 for w in s)]
            chosen = {
                "matcher's set": matching._literals_in(source),
                "rarest set": min(usable, key=frequency) if usable else None,
            }
            filters[alt] = {
                name: (
                    re.compile("|".join(re.escape(w) for w in sorted(s, key=len, reverse=True)))
                    if s
                    else None,
                    width,
                )
                for name, s in chosen.items()
            }
    print(f"{len(filters)} trigger-fed alternatives, {bounded} of bounded width")

    attempts: Counter[str] = Counter()
    spent: Counter[str] = Counter()
    skipped: dict[str, Counter[str]] = {"matcher's set": Counter(), "rarest set": Counter()}
    saved: dict[str, Counter[str]] = {"matcher's set": Counter(), "rarest set": Counter()}
    trigger = matcher._trigger
    assert trigger is not None
    for v in corpus:
        text = v.text.lower()
        size = len(text)
        candidates, tries = trigger.candidates(text)
        for t, target in enumerate(matcher.targets):
            if target.search.mode != matching._TRIGGERED:
                continue
            cid = target.criterion.id
            for pos, alts in zip(candidates[t], tries[t], strict=True):
                for alt in alts or ():
                    t0 = time.perf_counter()
                    hit = alt(text, pos, size)
                    dt = time.perf_counter() - t0
                    attempts[cid] += 1
                    spent[cid] += dt
                    for name in skipped:
                        words, width = filters[alt][name]
                        if (
                            words is not None
                            and words.search(text, pos, min(size, pos + width)) is None
                        ):
                            assert hit is None, (cid, name)  # the filter never skips a match
                            skipped[name][cid] += 1
                            saved[name][cid] += dt
    n = len(corpus)
    print(f"{'criterion':26s} {'attempts':>8s} {'µs':>7s}   skipped by matcher's set / rarest set")
    for cid in attempts:
        print(
            f"{cid:26s} {attempts[cid] / n:8.1f} {spent[cid] / n * 1e6:7.1f}   "
            + " / ".join(
                f"{skipped[k][cid] / n:5.1f} ({saved[k][cid] / n * 1e6:5.1f} µs)" for k in skipped
            )
        )
    total = sum(spent.values()) / n * 1e6
    print(
        f"all anchored attempts: {sum(attempts.values()) / n:.1f} per vignette, {total:.1f} µs; "
        + "; ".join(
            f"{k} would skip {sum(saved[k].values()) / n * 1e6:.1f} µs "
            f"({sum(saved[k].values()) / sum(spent.values()):.0%})"
            for k in skipped
        )
    )


if __name__ == "__main__":
    main()
