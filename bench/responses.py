"""Benchmark: load + analyse 50,000 survey responses (2,000 respondents x 25 vignettes).

Run from the repository root::

    .venv/bin/python bench/responses.py [--respondents 2000] [--vignettes 25] [--repeat 5]

Target (issue #4): load + distributions + rubric agreement + Fleiss' kappa under 2 s on
the project machine, bootstrap excluded (timed separately). The baseline is a bare
``pandas.read_csv`` + ``value_counts`` of the same file, measured in the same run, so the
ratio says what casekit's validation and exclusion report cost on top of reading the file.

Times are wall-clock medians of ``--repeat`` runs after one warm-up run; the cold first
run (lazy imports of pandera/statsmodels/krippendorff inside the functions) is printed too.
The synthetic file is written to a temporary folder and deleted afterwards.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from casekit.response_tables import read_responses
from casekit.responses import distribution, interrater_agreement, rubric_agreement

ACTIONS = (
    "warn_and_notify", "notify_police", "hospitalize", "report_to_authority", "treatment_plan",
    "emergency_evaluation", "may_disclose", "assess_and_document", "inform_family",
    "advise_client_self_manage", "contact_victim_lawyer", "maintain_confidentiality",
)  # fmt: skip
APPROPRIATE = [True] * 8 + [False] * 4


def make_file(folder: Path, n_resp: int, n_vig: int, seed: int = 7) -> tuple[Path, pd.DataFrame]:
    """A long CSV of n_resp x n_vig responses and its key frame (vectorised, seeded)."""
    rng = np.random.default_rng(seed)
    vignettes = np.array([f"V{j:03d}" for j in range(n_vig)])
    answer = rng.integers(0, 8, n_vig)
    right = rng.random((n_resp, n_vig)) < 0.6
    other = rng.integers(0, len(ACTIONS), (n_resp, n_vig))
    codes = np.where(right, answer[None, :], other)
    frame = pd.DataFrame(
        {
            "respondent_id": np.repeat([f"R{i:05d}" for i in range(n_resp)], n_vig),
            "vignette_id": np.tile(vignettes, n_resp),
            "response": np.asarray(ACTIONS)[codes.reshape(-1)],
            "confidence": rng.integers(1, 6, n_resp * n_vig),
            "profession": np.repeat(
                rng.choice(["psychologist", "psychiatrist", "social_worker", "counselor"], n_resp),
                n_vig,
            ),
            "state": np.repeat(rng.choice(["CA", "NY", "TX", "FL", "WA"], n_resp), n_vig),
        }
    )
    path = folder / "responses.csv"
    frame.to_csv(path, index=False)
    key = pd.DataFrame({"vignette_id": vignettes, "action": np.asarray(ACTIONS)[answer]})
    return path, key


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, float]:
    """(cold first run, median of ``repeat`` warm runs) in seconds."""
    start = time.perf_counter()
    fn()
    cold = time.perf_counter() - start
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - start)
    return cold, statistics.median(runs) if runs else cold


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--respondents", type=int, default=2000)
    parser.add_argument("--vignettes", type=int, default=25)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--boot", type=int, default=1000)
    args = parser.parse_args()
    actions = pd.DataFrame({"id": ACTIONS, "label": ACTIONS, "appropriate": APPROPRIATE})

    with tempfile.TemporaryDirectory() as tmp:
        path, key = make_file(Path(tmp), args.respondents, args.vignettes)
        n_rows = args.respondents * args.vignettes
        ids = list(key["vignette_id"])

        def baseline() -> None:
            df = pd.read_csv(path)
            df.groupby("vignette_id")["response"].value_counts()

        def load() -> Any:
            return read_responses(path, vignette_ids=ids, actions=actions, strict=True)

        def analyse() -> None:
            distribution(table, actions=actions)
            rubric_agreement(table, key, actions)
            interrater_agreement(table, n_boot=0)

        def pipeline() -> None:
            t = load()
            distribution(t, actions=actions)
            rubric_agreement(t, key, actions)
            interrater_agreement(t, n_boot=0)

        def boot(resample: str) -> Callable[[], Any]:
            return lambda: interrater_agreement(table, n_boot=args.boot, resample=resample)  # type: ignore[arg-type]

        # The pipeline runs first so its cold time includes the lazy imports (pandera,
        # statsmodels, krippendorff), as a one-shot `casekit responses` call would pay.
        p_cold, p_warm = timed(pipeline, args.repeat)
        b_cold, b_warm = timed(baseline, args.repeat)
        l_cold, l_warm = timed(load, args.repeat)
        table = load()
        a_cold, a_warm = timed(analyse, args.repeat)
        bv_cold, _ = timed(boot("vignettes"), 0)
        br_cold, _ = timed(boot("respondents"), 0)

    shape = f"{args.respondents:,} respondents x {args.vignettes} vignettes"
    print(f"responses: {n_rows:,} rows ({shape})")
    rows = [
        ("baseline: pandas read_csv + value_counts", b_cold, b_warm),
        ("casekit load (read_responses, pandera, strict)", l_cold, l_warm),
        ("casekit distributions + rubric agreement + kappa/alpha", a_cold, a_warm),
        ("casekit total (load + analyses; cold = incl. imports)", p_cold, p_warm),
    ]
    print(f"{'step':56s} {'cold s':>8s} {'median s':>9s}")
    for name, cold, warm in rows:
        print(f"{name:56s} {cold:8.3f} {warm:9.3f}")
    print(f"{'ratio total / baseline (medians)':56s} {'':8s} {p_warm / b_warm:8.1f}x")
    verdict = "PASS" if p_warm < 2.0 else "FAIL"
    print(f"target total < 2 s: {verdict} (median {p_warm:.3f} s, cold {p_cold:.3f} s)")
    print(f"bootstrap {args.boot} replicates, resampling vignettes:   {bv_cold:.3f} s")
    print(f"bootstrap {args.boot} replicates, resampling respondents: {br_cold:.3f} s")


if __name__ == "__main__":
    main()
