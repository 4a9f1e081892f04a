"""Regression floor: the bundled rubrics keep agreeing with the hand-annotated gold labels.

The honest figures (tuning vs held-out, per criterion) come from ``bench/accuracy.py``; this
test only stops a rubric edit from silently breaking what the tuning split already gets right.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from casekit.io import read_vignettes
from casekit.rules import load_rubric
from casekit.scoring import score

# The files whose tuning records the rules were tuned on. The later duty_to_protect and
# self_harm tuning files were written for the second reader (casekit.training) after those
# rules were last tuned, so they are no regression guard for the rules (bench/README.md
# records the rules' first scores on them). The child_abuse and elder_abuse rules were tuned
# on their sets 2-10 in the twelfth session, on child_abuse 11-14 and elder_abuse 11-12 in
# the thirteenth (child_abuse 15-17, written later that session, were never tuned on), and on
# child_abuse 18-21 and elder_abuse 13-14 in the fourteenth (the last two wait in data/pending).
TUNED_ON = {
    "child_abuse.yaml",
    *(f"child_abuse_{n}.yaml" for n in (*range(2, 15), *range(18, 22))),
    "duty_to_protect.yaml",
    "duty_to_protect_2.yaml",
    "duty_to_protect_3.yaml",
    "duty_to_protect_4.yaml",
    "elder_abuse.yaml",
    *(f"elder_abuse_{n}.yaml" for n in range(2, 13)),
    "self_harm.yaml",
    "self_harm_2.yaml",
}
VIGNETTES = [
    v
    for path in sorted(Path("data/vignettes").glob("*.yaml"))
    if path.name in TUNED_ON
    for v in read_vignettes(path)
]


@pytest.mark.parametrize("rubric_id", ["duty_to_protect"])
def test_tuning_split_duty_accuracy(rubric_id: str) -> None:
    rubric = load_rubric(rubric_id)
    cases = [v for v in VIGNETTES if v.split == "tuning" and "duty" in v.labels.get(rubric_id, {})]
    assert len(cases) >= 250
    wrong = [
        (v.id, v.labels[rubric_id]["duty"], a.duty)
        for v in cases
        if (a := score(v, rubric, jurisdiction="generic")).duty != v.labels[rubric_id]["duty"]
    ]
    # 0.92 when this floor was set (237/257: four duty_to_protect tuning sets of increasingly
    # varied wording plus the other rubrics' tuning cases); it was 0.80 (206/257) before the
    # vocabulary was widened for duty_to_protect_4.yaml
    assert len(wrong) / len(cases) <= 0.12, wrong


def test_tuning_split_threat_criterion_f1() -> None:
    rubric = load_rubric("duty_to_protect")
    tp = fp = fn = 0
    for v in VIGNETTES:
        gold = v.labels.get("duty_to_protect", {})
        if v.split != "tuning" or "threat_communicated" not in gold:
            continue
        pred = "threat_communicated" in score(v, rubric, jurisdiction="generic").fired
        tp += pred and gold["threat_communicated"]
        fp += pred and not gold["threat_communicated"]
        fn += (not pred) and gold["threat_communicated"]
    f1 = 2 * tp / (2 * tp + fp + fn)
    assert f1 >= 0.93, (tp, fp, fn)  # 0.96 when this floor was set


@pytest.mark.parametrize(("rubric_id", "floor"), [("child_abuse", 0.66), ("elder_abuse", 0.82)])
def test_abuse_rubrics_tuning_duty_accuracy(rubric_id: str, floor: float) -> None:
    """The mandated-reporting rules on the tuning sets written for them (sets 2 onwards)."""
    rubric = load_rubric(rubric_id)
    cases = [v for v in VIGNETTES if v.split == "tuning" and v.id.startswith(("CAT", "EAT"))]
    cases = [v for v in cases if rubric_id in v.labels]
    assert len(cases) >= 660
    right = sum(
        score(v, rubric, jurisdiction="generic").duty == v.labels[rubric_id]["duty"] for v in cases
    )
    # child_abuse 0.68 (534/780) and elder_abuse 0.85 (558/660) when these floors were set;
    # the twelfth session's starting rules scored 0.43 and 0.49 on the unseen sets 8-10, the
    # thirteenth's 0.63 and 0.71 on the unseen aimed sets 11-14 and 11-12, and the fourteenth's
    # 0.58 on child_abuse 18-21 (child_abuse 2-14 and 18-21 after it: 688/1020 = 0.67)
    assert right / len(cases) >= floor, (right, len(cases))
