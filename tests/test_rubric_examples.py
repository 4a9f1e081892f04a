"""Every `fires`/`silent` example of every bundled rubric is a test of the engine."""

from __future__ import annotations

import pytest

from casekit.model import Vignette
from casekit.rules import load_rubrics
from casekit.scoring import score

CASES = [
    pytest.param(
        rubric, criterion.id, text, kind == "fires", id=f"{rubric.id}:{criterion.id}:{kind}:{i}"
    )
    for rubric in load_rubrics()
    for criterion in rubric.criteria
    for kind, texts in (("fires", criterion.fires), ("silent", criterion.silent))
    for i, text in enumerate(texts)
]


@pytest.mark.parametrize(("rubric", "criterion", "text", "should_fire"), CASES)
def test_example(rubric, criterion: str, text: str, should_fire: bool) -> None:
    assessment = score(Vignette(id="example", text=text), rubric)
    fired = criterion in assessment.fired
    if fired != should_fire:
        evidence = [
            (f.criterion, f.text, [m.describe() for m in f.modifiers])
            for f in assessment.findings
            if f.criterion == criterion
        ]
        pytest.fail(
            f"{criterion} {'did not fire' if should_fire else 'fired'} on {text!r}; "
            f"findings: {evidence}"
        )


@pytest.mark.parametrize("rubric", load_rubrics(), ids=lambda r: r.id)
def test_every_criterion_has_enough_examples(rubric) -> None:
    for criterion in rubric.criteria:
        assert len(criterion.fires) >= 8, (rubric.id, criterion.id, "fires")
        assert len(criterion.silent) >= 8, (rubric.id, criterion.id, "silent")
