"""Would PCRE2's JIT make casekit's patterns fast enough? A probe, not a dependency.

Each pattern the duty_to_protect matcher searches (every criterion's alternation and every
cue rule) is compiled twice, by Python's ``re`` and by PCRE2 with its JIT (PyPI ``pcre2``,
Unicode ``\\w`` and ``\\b`` as in ``re``), and scanned over the same recombined vignettes
with ``finditer``. Spans are compared, so a faster engine that finds other matches would
show. What decides it: the total per vignette against the 100 µs a vignette gets at the
10,000/s target (``bench/throughput.py``).

Run (pcre2 is not a casekit dependency; install it into the venv first):
``.venv/bin/pip install 'pcre2>=0.7,<1' && .venv/bin/python bench/pcre2_probe.py``
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

from throughput import make_corpus  # noqa: E402

from casekit.matching import compile_rubric  # noqa: E402
from casekit.rules import load_rubric  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=2000)
    args = parser.parse_args()
    import pcre2

    texts = [v.text.lower() for v in make_corpus(args.n)]
    matcher = compile_rubric(load_rubric("duty_to_protect"))
    searches = [t.search for t in matcher.targets]
    searches += [matcher.literal_search] if matcher.literal_search else []
    searches += [search for _, search in matcher.pattern_rules]
    total_re = total_jit = 0.0
    for search in searches:
        pattern = search.regex.pattern
        regex = re.compile(pattern)
        t0 = time.perf_counter()
        want = [[m.span() for m in regex.finditer(t)] for t in texts]
        t_re = (time.perf_counter() - t0) / len(texts) * 1e6
        try:
            jit = pcre2.compile(pattern, pcre2.UNICODE)
            jit.jit_compile()
        except Exception as exc:  # the probe reports what PCRE2 refuses
            print(f"{t_re:8.0f} us  re only ({len(pattern):,} chars): PCRE2 refused: {exc}")
            continue
        t0 = time.perf_counter()
        got = [[m.span() for m in jit.finditer(t)] for t in texts]
        t_jit = (time.perf_counter() - t0) / len(texts) * 1e6
        total_re += t_re
        total_jit += t_jit
        same = "same spans" if got == want else "DIFFERENT spans"
        print(f"{t_re:8.0f} us  re, {t_jit:6.0f} us  PCRE2 JIT ({len(pattern):,} chars, {same})")
    print(
        f"patterns PCRE2 compiled: re {total_re:.0f} us, PCRE2 JIT {total_jit:.0f} us per vignette"
    )


if __name__ == "__main__":
    main()
