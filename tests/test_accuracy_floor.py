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

# Tuning files written for the second reader (casekit.training) after the rules were last
# tuned: the rules have never been tuned on them, so they are no regression guard for the
# rules (bench/README.md records the rules' first scores on them).
NOT_TUNED_ON = {
    "duty_to_protect_5.yaml",
    "duty_to_protect_6.yaml",
    "duty_to_protect_7.yaml",
    "duty_to_protect_8.yaml",
    "duty_to_protect_9.yaml",
    "duty_to_protect_10.yaml",
    "duty_to_protect_11.yaml",
    "duty_to_protect_12.yaml",
    "duty_to_protect_13.yaml",
    "duty_to_protect_14.yaml",
    "duty_to_protect_15.yaml",
    "duty_to_protect_16.yaml",
    "duty_to_protect_17.yaml",
    "duty_to_protect_18.yaml",
    "duty_to_protect_19.yaml",
    "duty_to_protect_20.yaml",
    "duty_to_protect_21.yaml",
    "duty_to_protect_22.yaml",
    "duty_to_protect_23.yaml",
    "duty_to_protect_24.yaml",
    "duty_to_protect_25.yaml",
    "duty_to_protect_26.yaml",
    "self_harm_3.yaml",
    "self_harm_4.yaml",
    "self_harm_5.yaml",
    "self_harm_6.yaml",
    "self_harm_7.yaml",
    "self_harm_8.yaml",
    "self_harm_9.yaml",
    "self_harm_10.yaml",
    "self_harm_11.yaml",
    "self_harm_12.yaml",
    "self_harm_13.yaml",
    "self_harm_14.yaml",
    "self_harm_15.yaml",
    "self_harm_16.yaml",
    "self_harm_17.yaml",
    "self_harm_18.yaml",
    "self_harm_19.yaml",
    "self_harm_20.yaml",
    "self_harm_21.yaml",
    "self_harm_22.yaml",
    "self_harm_23.yaml",
}
VIGNETTES = [
    v
    for path in sorted(Path("data/vignettes").glob("*.yaml"))
    if path.name not in NOT_TUNED_ON
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
