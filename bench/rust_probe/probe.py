"""Rust's regex crate against Python's ``re`` on the throughput baseline scan (a probe).

Not part of casekit. The crate in this folder builds offline from Debian's packaged crates
(``apt-get install librust-regex-dev librust-pyo3-dev``; ``.cargo/config.toml`` points cargo at
``/usr/share/cargo/registry``): ``PYO3_PYTHON=$PWD/../../.venv/bin/python cargo build --release``
(an absolute path: cargo runs the build script from elsewhere),
then ``cp target/release/librprobe.so rprobe.so`` and ``../../.venv/bin/python probe.py``.
It times the baseline of ``bench/throughput.py`` (one word-bounded alternation of the
rubric's literal trigger words, every match start) with both engines over the same
recombined vignettes, and checks that they find the same starts on the ASCII ones (Rust
reports byte offsets).
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent), str(HERE.parents[1])]

import rprobe  # noqa: E402
import throughput  # noqa: E402


def best_of(scan: Callable[[str], object], texts: list[str], repeat: int = 3) -> float:
    """Fastest of ``repeat`` passes over ``texts``, in microseconds per text."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for text in texts:
            scan(text)
        best = min(best, time.perf_counter() - start)
    return best / len(texts) * 1e6


def main() -> None:
    texts = [v.text for v in throughput.make_corpus(5000)]
    python = throughput.keyword_regex()
    rust = rprobe.Scanner(python.pattern)
    print(f"pattern: {len(python.pattern)} characters, {len(texts)} vignettes")
    print(f"python re:  {best_of(lambda t: [m.start() for m in python.finditer(t)], texts):.1f} us")
    print(f"rust regex: {best_of(rust.starts, texts):.1f} us")
    ascii_texts = [t for t in texts if t.isascii()]
    same = sum([m.start() for m in python.finditer(t)] == rust.starts(t) for t in ascii_texts)
    print(f"same match starts on {same} of {len(ascii_texts)} ASCII vignettes")


if __name__ == "__main__":
    main()
