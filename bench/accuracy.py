"""Per-criterion precision / recall / F1 and duty accuracy, tuning vs. held-out split.

Every bundled vignette with gold ``labels`` for a rubric is scored under the generic
standard (the gold labels describe the Tarasoff-standard reading). The held-out split was
written before the rules were tuned and is never used to tune them; report both.

Run: ``.venv/bin/python bench/accuracy.py [--split tuning|heldout|all] [--rubric ID] [--errors]``
"""

from __future__ import annotations

import argparse
import sys
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from casekit.io import read_vignettes  # noqa: E402
from casekit.rules import load_rubrics  # noqa: E402
from casekit.scoring import score  # noqa: E402


def prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 1.0
    r = tp / (tp + fn) if tp + fn else 1.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return p, r, f


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", choices=["tuning", "heldout", "all"], default="all")
    parser.add_argument("--rubric", action="append", help="rubric id (default: all bundled)")
    parser.add_argument("--errors", action="store_true", help="list every disagreement")
    args = parser.parse_args()

    vignettes = read_vignettes(ROOT / "data" / "vignettes")
    splits = ["tuning", "heldout"] if args.split == "all" else [args.split]
    for rubric in load_rubrics(args.rubric):
        for split in splits:
            cases = [
                v for v in vignettes if (v.split or "tuning") == split and rubric.id in v.labels
            ]
            if not cases:
                continue
            counts: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
            duty_right = duty_n = 0
            errors = []
            for v in cases:
                gold = v.labels[rubric.id]
                a = score(v, rubric, jurisdiction="generic")
                for c in rubric.criterion_ids:
                    if c not in gold:
                        continue
                    pred, truth = c in a.fired, bool(gold[c])
                    tp_fp_fn = counts[c]
                    if pred and truth:
                        tp_fp_fn[0] += 1
                    elif pred:
                        tp_fp_fn[1] += 1
                        errors.append(f"  FP {c:<24} {v.id}")
                    elif truth:
                        tp_fp_fn[2] += 1
                        errors.append(f"  FN {c:<24} {v.id}")
                if "duty" in gold:
                    duty_n += 1
                    if a.duty == gold["duty"]:
                        duty_right += 1
                    else:
                        errors.append(f"  duty {v.id}: gold {gold['duty']}, got {a.duty}")
            print(f"\n{rubric.id} / {split}: {len(cases)} vignettes")
            print(f"  {'criterion':<26}{'P':>6}{'R':>6}{'F1':>6}   tp  fp  fn")
            for c in rubric.criterion_ids:
                if c in counts:
                    tp, fp, fn = counts[c]
                    p, r, f = prf(tp, fp, fn)
                    print(f"  {c:<26}{p:6.2f}{r:6.2f}{f:6.2f}  {tp:3d} {fp:3d} {fn:3d}")
            if duty_n:
                print(f"  duty accuracy: {duty_right}/{duty_n} = {duty_right / duty_n:.2f}")
            if args.errors:
                print("\n".join(errors))


if __name__ == "__main__":
    main()
