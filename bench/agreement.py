"""How far a second coder agrees with the gold labels, beside how far casekit does.

For each rubric with a second coding in ``data/agreement/<rubric>_second_coder.yaml`` (a
coder who labelled the held-out texts blind, from the criterion definitions alone), prints
per criterion: positives in the gold and the second coding, the share of cases coded the same,
Cohen's kappa, the second coder's F1 against the gold labels, and casekit's F1 against the
gold labels on the same cases (rules; with ``--reader`` also rules + second reader). Duty
rows give accuracy (share identical) and a three-category kappa.

The second coder's F1 is the figure a detector would reach by reading exactly as a second
careful human does: a ceiling on what the held-out F1 target can measure.

Run: ``.venv/bin/python bench/agreement.py [--rubric ID] [--reader] [--disagreements]``
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from casekit.coding import agreement_rows, cohen_kappa, f1, read_coding  # noqa: E402
from casekit.io import read_vignettes  # noqa: E402
from casekit.reader import load_reader  # noqa: E402
from casekit.rules import load_rubric  # noqa: E402
from casekit.scoring import score  # noqa: E402

AGREEMENT_DIR = ROOT / "data" / "agreement"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rubric", action="append", help="rubric id (default: every coding)")
    parser.add_argument("--reader", action="store_true", help="also score with the second reader")
    parser.add_argument(
        "--disagreements", action="store_true", help="list the cases the coders split on"
    )
    args = parser.parse_args()
    vignettes = read_vignettes(ROOT / "data" / "vignettes")
    paths = sorted(AGREEMENT_DIR.glob("*_second_coder.yaml"))
    for path in paths:
        rubric_id = path.name.removesuffix("_second_coder.yaml")
        if args.rubric and rubric_id not in args.rubric:
            continue
        coding = read_coding(path, rubric_id, vignettes)
        rubric = load_rubric(rubric_id)
        coded = [v for v in vignettes if v.id in coding.labels]
        criteria = [c for c in rubric.criterion_ids if c in next(iter(coding.labels.values()))]
        systems = {"rules": [score(v, rubric, explain=False) for v in coded]}
        if args.reader:
            reader = load_reader(rubric_id)
            reader.warm([v.text for v in coded])
            systems["+reader"] = [score(v, rubric, explain=False, reader=reader) for v in coded]
        print(f"\n{rubric_id}: {len(coded)} held-out cases coded twice ({path.name})")
        head = "  criterion                   gold  2nd  agree kappa  2nd F1 |"
        print(head + "".join(f" {name:>7} F1" for name in systems))
        for row in agreement_rows(coding, vignettes, criteria):
            c = row["criterion"]
            gold = [v.labels[rubric_id].get(c) for v in coded]
            if c == "duty":
                sys_figs = [
                    np.mean([a.duty == g for a, g in zip(out, gold, strict=True)])
                    for out in systems.values()
                ]
                label = "duty (accuracy)"
            else:
                sys_figs = [
                    f1([c in a.fired for a in out], [g is True for g in gold])
                    for out in systems.values()
                ]
                label = c
            print(
                f"  {label:<26} {row['gold']:>4} {row['second']:>4} {row['agree']:>6.2f} "
                f"{row['kappa']:>5.2f} {row['f1']:>7.2f} |"
                + "".join(f" {fig:>10.2f}" for fig in sys_figs)
            )
        duty_sys = [a.duty for a in systems["rules"]]
        print(
            "  kappa gold vs rules duty: "
            f"{cohen_kappa([v.labels[rubric_id]['duty'] for v in coded], duty_sys):.2f}"
        )
        if args.disagreements:
            for v in coded:
                second = coding.labels[v.id]
                split = [k for k, x in second.items() if v.labels[rubric_id].get(k) != x]
                if split:
                    print(f"    {v.id}: " + ", ".join(split))


if __name__ == "__main__":
    main()
