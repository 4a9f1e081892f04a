"""Measurement 28: train a bundled reader's recipe on a seeded fraction of the tuning cases.

``python bench/learning_curve.py FRACTION RUBRIC [training options] --dir DIR`` runs
``python -m casekit.training`` with the tuning cases outside the seeded fraction taken out of
both the tuning and the calibration split (they are neither trained on nor used to choose
the combination), so the reader it writes can be compared on calibration with one trained
on every tuning case. The calibration figures are in the model JSON's provenance.
"""

import dataclasses
import sys

import numpy as np

import casekit.training as T

SEED = 7


def main() -> int:
    fraction = float(sys.argv[1])
    argv = sys.argv[2:]
    read = T.read_vignettes

    def fewer(path):  # type: ignore[no-untyped-def]
        vignettes = read(path)
        tuning = [i for i, v in enumerate(vignettes) if v.split == "tuning"]
        order = np.random.default_rng(SEED).permutation(len(tuning))
        kept = {tuning[j] for j in order[: round(fraction * len(tuning))]}
        out = [
            v
            if v.split != "tuning" or i in kept
            else dataclasses.replace(
                v, split="heldout", tags=tuple(t for t in v.tags if not t.startswith("calibration"))
            )
            for i, v in enumerate(vignettes)
        ]
        print("tuning cases kept:", sum(v.split == "tuning" for v in out), flush=True)
        return out

    T.read_vignettes = fewer
    return T.main(argv)


if __name__ == "__main__":
    raise SystemExit(main())
