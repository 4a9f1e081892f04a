"""Per-criterion precision / recall / F1 and duty accuracy: tuning, calibration, held-out.

Every bundled vignette with gold ``labels`` for a rubric is scored under the generic
standard (the gold labels describe the Tarasoff-standard reading). The held-out split was
written before the rules were tuned and is never used to tune them; its records tagged
``calibration`` chose how the second reader combines with the rules and are reported as their
own split. Report all three.

Run: ``.venv/bin/python bench/accuracy.py [--split tuning|calibration|heldout|all] [--rubric ID]
[--errors] [--by-file] [--file NAME ...] [--reader]``. ``--by-file`` adds one line per vignette
file (duty accuracy and criterion F1), so a held-out set can be reported on its own; ``--file``
scores only the named files (e.g. ``--file calibration.yaml``, without reading any other
held-out text); ``--reader`` adds the bundled second reader (``casekit.reader``) for rubrics
that have one, ``--context-veto`` switches on its ``context_veto`` option. ``--reader-dir DIR``
uses instead the reader ``python -m casekit.training RUBRIC --dir DIR`` wrote; given several
times, the readers are averaged into one (``bench/ensemble.py``), its modes chosen on the
calibration split.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from casekit.io import read_vignettes  # noqa: E402
from casekit.model import Vignette  # noqa: E402
from casekit.reader import SecondReader, bundled_readers, load_reader  # noqa: E402
from casekit.rules import load_rubrics  # noqa: E402
from casekit.scoring import score  # noqa: E402
from casekit.training import calibration_records  # noqa: E402


def prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


def split_of(v: Vignette, rubric: str) -> str:
    """``tuning``, ``heldout``, or ``calibration`` for ``rubric``'s calibration records.

    Calibration records chose how the second reader combines with the rules, so they are
    reported apart from the held-out split proper (:func:`casekit.training.calibration_records`:
    tagged ``calibration``, or ``calibration-<rubric>`` for one rubric only).
    """
    if calibration_records([v], rubric):
        return "calibration"
    return v.split or "tuning"


def _reader_from(folders: list[Path], rubric: str, search: bool = False) -> SecondReader:
    """The reader in one folder, or several folders' readers averaged (``bench/ensemble.py``)."""
    sys.path.insert(0, str(ROOT / "bench"))
    from ensemble import ensemble, reader_in

    if len(folders) == 1:
        return reader_in(folders[0], rubric)
    calibration = calibration_records(read_vignettes(ROOT / "data" / "vignettes"), rubric)
    reader, report = ensemble(folders, rubric, calibration, search_thresholds=search)
    chosen = {c: (r["chosen"], r["f1"]) for c, r in report.items() if c != "case_requirements"}
    print(f"\n{rubric}: ensemble of {len(folders)} readers; calibration modes {chosen}")
    print(f"  case requirements: {report['case_requirements']}")
    return reader


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--split", choices=["tuning", "calibration", "heldout", "all"], default="all"
    )
    parser.add_argument("--rubric", action="append", help="rubric id (default: all bundled)")
    parser.add_argument("--errors", action="store_true", help="list every disagreement")
    parser.add_argument("--by-file", action="store_true", help="one line per vignette file")
    parser.add_argument("--file", action="append", help="score only this vignette file")
    parser.add_argument("--reader", action="store_true", help="add the trained second reader")
    parser.add_argument(
        "--context-veto", action="store_true", help="with --reader: let the rules' cues veto it"
    )
    parser.add_argument(
        "--reader-dir",
        action="append",
        type=Path,
        help="a trained reader's folder instead of the bundled one (several: their average)",
    )
    parser.add_argument(
        "--search-thresholds",
        action="store_true",
        help="with several --reader-dir: choose the average's thresholds on calibration too",
    )
    args = parser.parse_args()

    folder = ROOT / "data" / "vignettes"
    by_file = [
        (path.name, v)
        for path in sorted(folder.iterdir())
        if path.suffix in (".yaml", ".yml", ".csv", ".jsonl")
        and (not args.file or path.name in args.file)
        for v in read_vignettes(path)
    ]
    files = {v.id: name for name, v in by_file}
    vignettes = [v for _, v in by_file]
    splits = ["tuning", "calibration", "heldout"] if args.split == "all" else [args.split]
    for rubric in load_rubrics(args.rubric):
        reader = None
        if args.reader_dir:
            reader = _reader_from(args.reader_dir, rubric.id, args.search_thresholds)
        elif args.reader and rubric.id in bundled_readers():
            reader = load_reader(rubric.id)
            if args.context_veto:
                model = dataclasses.replace(reader.model, context_veto=True)
                reader = SecondReader(model, reader.encoder)
        for split in splits:
            cases = [
                v for v in vignettes if split_of(v, rubric.id) == split and rubric.id in v.labels
            ]
            if not cases:
                continue
            counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
            per_file: dict[str, dict[str, list[int]]] = defaultdict(
                lambda: defaultdict(lambda: [0, 0, 0])
            )
            duty_right = duty_n = 0
            errors = []
            for v in cases:
                gold = v.labels[rubric.id]
                a = score(v, rubric, jurisdiction="generic", reader=reader)
                mine = per_file[files.get(v.id, "?")]
                for c in rubric.criterion_ids:
                    if c not in gold:
                        continue
                    pred, truth = c in a.fired, bool(gold[c])
                    slot = 0 if pred and truth else 1 if pred else 2 if truth else -1
                    if slot < 0:
                        continue
                    counts[c][slot] += 1
                    mine[c][slot] += 1
                    if slot:
                        errors.append(f"  {'FP' if slot == 1 else 'FN'} {c:<24} {v.id}")
                if "duty" in gold:
                    duty_n += 1
                    mine["duty"][1] += 1
                    if a.duty == gold["duty"]:
                        duty_right += 1
                        mine["duty"][0] += 1
                    else:
                        errors.append(f"  duty {v.id}: gold {gold['duty']}, got {a.duty}")
            how = " (rules + second reader)" if reader else ""
            if reader and reader.model.context_veto:
                how = " (rules + second reader, context veto)"
            print(f"\n{rubric.id} / {split}: {len(cases)} vignettes{how}")
            print(f"  {'criterion':<26}{'P':>6}{'R':>6}{'F1':>6}   tp  fp  fn")
            for c in rubric.criterion_ids:
                if c in counts:
                    tp, fp, fn = counts[c]
                    p, r, f = prf(tp, fp, fn)
                    print(f"  {c:<26}{p:6.2f}{r:6.2f}{f:6.2f}  {tp:3d} {fp:3d} {fn:3d}")
            if duty_n:
                print(f"  duty accuracy: {duty_right}/{duty_n} = {duty_right / duty_n:.2f}")
            if args.by_file:
                _print_by_file(rubric.criterion_ids, per_file)
            if args.errors:
                print("\n".join(errors))


def _print_by_file(criteria: tuple[str, ...], per_file: dict[str, dict[str, list[int]]]) -> None:
    print(f"  {'file':<26}{'n':>4}{'duty':>7}   " + " ".join(c[:8] for c in criteria))
    for name, counts in sorted(per_file.items()):
        right, n = counts.get("duty", [0, 0])[:2]
        duty = f"{right / n:7.2f}" if n else f"{'-':>7}"
        f1s = []
        for c in criteria:
            tp, fp, fn = counts.get(c, [0, 0, 0])
            f1s.append(f"{prf(tp, fp, fn)[2]:8.2f}" if tp + fp + fn else f"{'-':>8}")
        print(f"  {name:<26}{n:4d}{duty}   " + " ".join(f1s))


if __name__ == "__main__":
    main()
