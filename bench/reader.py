"""Second-reader speed: cold sentence encoding, and scoring with vs. without the reader.

Run: ``OPENBLAS_NUM_THREADS=1 .venv/bin/python bench/reader.py [--n 200]``. Scores the first
``--n`` bundled vignettes against ``duty_to_protect`` with the rules alone (the baseline,
timed in the same run) and with the rules plus the bundled second reader, with the encoder's
cache cleared first, and prints vignettes/s for both, their ratio, the encoder's
sentences/s, and the peak memory. One OpenBLAS thread is the right setting on a shared 2-core
machine (the second thread made the spike 4-5x slower under load).
"""

from __future__ import annotations

import argparse
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from casekit.io import read_vignettes  # noqa: E402
from casekit.matching import sentence_spans  # noqa: E402
from casekit.reader import load_reader  # noqa: E402
from casekit.rules import load_rubric  # noqa: E402
from casekit.scoring import score  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200, help="vignettes to score")
    args = parser.parse_args()
    rubric = load_rubric("duty_to_protect")
    vignettes = read_vignettes(ROOT / "data" / "vignettes")[: args.n]
    sentences = sum(len(sentence_spans(v.text)) for v in vignettes)
    words = sum(len(v.text.split()) for v in vignettes)
    reader = load_reader("duty_to_protect")
    t0 = time.perf_counter()
    reader.encoder.encode(["warm-up sentence."])
    load = time.perf_counter() - t0

    score(vignettes[0], rubric)  # compiles the rubric
    t0 = time.perf_counter()
    for v in vignettes:
        score(v, rubric)
    rules = time.perf_counter() - t0

    reader.encoder.clear_cache()
    t0 = time.perf_counter()
    for v in vignettes:
        score(v, rubric, reader=reader)
    both = time.perf_counter() - t0

    mean_words = words / len(vignettes)
    print(f"{len(vignettes)} vignettes, {sentences} sentences, {mean_words:.0f} words each")
    print(f"encoder load: {load:.2f} s")
    print(f"rules alone:          {len(vignettes) / rules:8.1f} vignettes/s")
    print(
        f"rules + reader, cold: {len(vignettes) / both:8.1f} vignettes/s "
        f"({sentences / both:.0f} sentences/s; {1000 * both / len(vignettes):.0f} ms per vignette)"
    )
    print(f"ratio (reader / rules): {rules / both:.3f}")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS: {peak:.0f} MB")


if __name__ == "__main__":
    main()
