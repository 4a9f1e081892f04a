"""Choose a shipped reader's combination again on a larger selection set (measurement 23).

A research tool, not part of casekit. The shipped reader's adapter and heads are kept; how
each criterion combines with the rules (``rules``, ``or``, ``reader``), optionally each
criterion's threshold, and whether the case requirements are checked again are chosen anew
by :func:`casekit.training.choose_combination` on every held-out record of the rubric
(calibration included) outside the files named with ``--exclude`` -- or, with
``--calibration``, on the rubric's calibration records only, as ``python -m casekit.training``
chooses (so a shipped model whose tuning data are unchanged is re-chosen without retraining
its adapter, which rebuilds byte for byte). The result goes to ``--dir`` with a copy of the
adapter, so ``bench/accuracy.py --reader-dir DIR`` scores it.

``--from-dir`` names another model's folder (a retrained candidate) instead of the shipped one.

Run: ``.venv/bin/python bench/recalibrate.py RUBRIC --dir DIR [--from-dir D] [--exclude FILE ... |
--calibration] [--search-thresholds]``
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from casekit.io import read_vignettes  # noqa: E402
from casekit.model import Vignette  # noqa: E402
from casekit.reader import READERS_DIR, ReaderModel, adapted_encoder  # noqa: E402
from casekit.training import calibration_records, choose_combination  # noqa: E402

VIGNETTES = ROOT / "data" / "vignettes"


def selection(rubric: str, exclude: set[str]) -> list[Vignette]:
    """Held-out records (calibration included) with ``rubric`` labels, outside ``exclude``."""
    unknown = exclude - {p.name for p in VIGNETTES.glob("*.yaml")}
    if unknown:
        raise SystemExit(f"--exclude: no such file in {VIGNETTES}: {sorted(unknown)}")
    chosen = []
    for path in sorted(VIGNETTES.glob("*.yaml")):
        if path.name not in exclude:
            chosen += [
                v for v in read_vignettes(path) if v.split == "heldout" and rubric in v.labels
            ]
    return chosen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rubric")
    parser.add_argument("--dir", type=Path, required=True)
    parser.add_argument("--exclude", action="append", default=[], metavar="FILE")
    parser.add_argument("--calibration", action="store_true")
    parser.add_argument(
        "--from-dir",
        type=Path,
        default=READERS_DIR,
        help="the folder of the model to re-choose (default: the shipped readers)",
    )
    parser.add_argument("--search-thresholds", action="store_true")
    args = parser.parse_args()
    if args.calibration and args.exclude:
        parser.error("--calibration chooses on the calibration records; --exclude does not apply")

    model = ReaderModel.from_file(args.from_dir / f"{args.rubric}.json")
    if not (model.adapter and model.adapter_sha256):
        raise SystemExit(f"{args.rubric}: the reader in {args.from_dir} has no adapter")
    encoder = adapted_encoder(args.from_dir / model.adapter, model.adapter_sha256)
    if args.calibration:
        records = calibration_records(read_vignettes(VIGNETTES), args.rubric)
    else:
        records = selection(args.rubric, set(args.exclude))
    print(f"{args.rubric}: choosing on {len(records)} records", flush=True)
    chosen, report = choose_combination(
        model, records, encoder, search_thresholds=args.search_thresholds
    )
    args.dir.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(args.from_dir / model.adapter, args.dir / model.adapter)
    chosen.to_file(args.dir / f"{args.rubric}.json")
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
