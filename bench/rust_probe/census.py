"""Which regular-expression constructs the bundled rubrics use (a census for a compiled matcher).

Not part of casekit. Parses every criterion alternative and every pattern cue of the four
bundled rubrics with Python's own parser (the tree ``re`` executes) and counts the node types,
anchors and character categories, so that a compiled matcher can be sized: an engine that
executes exactly these nodes with ``re``'s backtracking order reproduces ``re``'s matches by
construction, where translating the patterns to another engine's syntax (Rust's ``regex``
has no lookaround) does not.

Run: ``.venv/bin/python bench/rust_probe/census.py``
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path
from re import _constants as C  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from casekit.matching import _alternatives
from casekit.rules import load_rubrics

REPEATS = (C.MAX_REPEAT, C.MIN_REPEAT, getattr(C, "POSSESSIVE_REPEAT", None))


def walk(data: Any, nodes: Counter[str], details: Counter[str]) -> None:
    for op, av in data:
        nodes[str(op)] += 1
        if op is C.AT:
            details[str(av)] += 1
        elif op is C.IN:
            for inner, arg in av:
                nodes[f"IN:{inner}"] += 1
                if inner is C.CATEGORY:
                    details[str(arg)] += 1
        elif op in REPEATS:
            walk(av[2], nodes, details)
        elif op is C.SUBPATTERN:
            walk(av[3], nodes, details)
        elif op is C.BRANCH:
            for branch in av[1]:
                walk(branch, nodes, details)
        elif op in (C.ASSERT, C.ASSERT_NOT):
            walk(av[1], nodes, details)
        elif op is getattr(C, "ATOMIC_GROUP", None):
            walk(av, nodes, details)


def main() -> None:
    nodes: Counter[str] = Counter()
    details: Counter[str] = Counter()
    for rubric in load_rubrics():
        patterns = [
            alt
            for c in rubric.criteria
            for alt in _alternatives([rubric.expand(p) for p in c.match])
        ]
        patterns += [rubric.expand(rule.pattern) for rule in rubric.context if not rule.literal]
        with_lookaround = 0
        for pattern in patterns:
            before = nodes["ASSERT"] + nodes["ASSERT_NOT"]
            walk(sre_parse.parse(pattern).data, nodes, details)
            with_lookaround += nodes["ASSERT"] + nodes["ASSERT_NOT"] > before
        size = sum(map(len, patterns))
        print(
            f"{rubric.id}: {len(patterns)} patterns, {size:,} characters, "
            f"{with_lookaround} with lookaround"
        )
    print("nodes:", ", ".join(f"{k} {v:,}" for k, v in nodes.most_common()))
    print("anchors and categories:", ", ".join(f"{k} {v:,}" for k, v in details.most_common()))


if __name__ == "__main__":
    main()
