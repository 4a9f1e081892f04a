"""Would Hyperscan make a fast prefilter for casekit's patterns? A probe, not a dependency.

The idea: compile every alternative of every criterion and cue of a rubric into one
Hyperscan database (``HS_FLAG_SINGLEMATCH``), scan each text once to learn which alternatives
can match at all, and run Python's ``re`` only for those. This script measures the two costs
that decide it: compiling the database and scanning. Hyperscan cannot compile lookarounds
exactly, so those alternatives are compiled with ``HS_FLAG_PREFILTER`` (a superset), and its
``\\b`` is ASCII-only (``HS_FLAG_UCP`` rejects ``\\b``), so texts with non-ASCII letters would
have to take the existing path.

Run (hyperscan is not a casekit dependency; install it into the venv first):
``.venv/bin/pip install 'hyperscan>=0.7,<1' && .venv/bin/python bench/hyperscan_probe.py``
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from throughput import keyword_regex, make_corpus  # noqa: E402

from casekit.matching import _alternatives, compile_rubric  # noqa: E402
from casekit.rules import load_rubric  # noqa: E402

_PY_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")


def alternatives(rubric_id: str) -> list[str]:
    """Every regex casekit runs for a rubric: criterion alternatives, then cue patterns."""
    rubric = load_rubric(rubric_id)
    matcher = compile_rubric(rubric)
    found = [
        alt
        for target in matcher.targets
        for alt in _alternatives([rubric.expand(p) for p in target.criterion.match])
    ]
    if matcher.literal_regex is not None:
        found.append(matcher.literal_regex.pattern)
    found += [rubric.expand(rule.pattern) for rule, _ in matcher.pattern_rules]
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rubric", default="duty_to_protect")
    parser.add_argument("--n", type=int, default=2000)
    args = parser.parse_args()
    try:
        import hyperscan as hs
    except ImportError:
        sys.exit("hyperscan is not installed: .venv/bin/pip install 'hyperscan>=0.7,<1'")

    exact = hs.HS_FLAG_SINGLEMATCH | hs.HS_FLAG_UTF8
    exprs: list[bytes] = []
    flags: list[int] = []
    started = time.perf_counter()
    for alt in alternatives(args.rubric):
        expr = _PY_ESCAPE.sub(r"\\x{\1}", alt).encode()
        for flag in (exact, exact | hs.HS_FLAG_PREFILTER):
            try:
                hs.Database().compile(expressions=[expr], ids=[0], elements=1, flags=[flag])
            except hs.error:
                continue
            exprs.append(expr)
            flags.append(flag)
            break
    checked = time.perf_counter() - started
    db = hs.Database()
    started = time.perf_counter()
    db.compile(expressions=exprs, ids=list(range(len(exprs))), elements=len(exprs), flags=flags)
    compiled = time.perf_counter() - started
    prefilter = sum(1 for f in flags if f & hs.HS_FLAG_PREFILTER)
    print(
        f"{args.rubric}: {len(exprs)} alternatives compiled ({prefilter} only as a prefilter); "
        f"one by one {checked:.2f} s, as one database {compiled:.2f} s"
    )

    texts = [v.text.lower() for v in make_corpus(args.n)]
    data = [t.encode() for t in texts]
    scratch = hs.Scratch(db)
    hits: list[int] = []
    started = time.perf_counter()
    for blob in data:
        db.scan(blob, match_event_handler=lambda i, *_: hits.append(i), scratch=scratch)
    scan = (time.perf_counter() - started) / len(data)
    baseline = keyword_regex(args.rubric)
    started = time.perf_counter()
    for text in texts:
        baseline.findall(text)
    bare = (time.perf_counter() - started) / len(texts)
    print(f"hyperscan scan:          {scan * 1e6:7.1f} us per vignette")
    print(f"matched alternatives:    {len(hits) / len(data):7.1f} per vignette")
    print(f"bare keyword regex scan: {bare * 1e6:7.1f} us per vignette (the throughput baseline)")
    print(
        f"10,000 vignettes/s leaves 100 us per vignette for everything; the scan alone takes "
        f"{scan * 1e6 / 100:.0%} of it"
    )


if __name__ == "__main__":
    main()
