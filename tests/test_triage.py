"""Triage across confidentiality exceptions: every bundled rubric scores every case.

A seminar moves from Tarasoff to suicide risk, child abuse and elder abuse; students confuse
the duties. These tests check that each exception is reported under its own rubric and not
under the others, and that the gold duty of the hand-labelled held-out vignettes for the
self_harm, child_abuse and elder_abuse rubrics is reproduced.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from casekit.io import read_vignettes
from casekit.model import DUTIES, Assessment, Vignette
from casekit.rules import Rubric, load_rubric, load_rubrics
from casekit.scoring import score_all

VIGNETTE_DIR = Path(__file__).resolve().parents[1] / "data" / "vignettes"
#: rubric id -> the vignette file written for it (with gold labels for every bundled rubric)
EXCEPTION_FILES = {
    "self_harm": "self_harm.yaml",
    "child_abuse": "child_abuse.yaml",
    "elder_abuse": "elder_abuse.yaml",
}
#: rubric id -> further tuning-only files with the same full labels (no held-out split)
TUNING_ONLY_FILES = {"self_harm": ("self_harm_2.yaml",)}
FOUR_RUBRICS = ("duty_to_protect", "self_harm", "child_abuse", "elder_abuse")
MIN_HELDOUT_ACCURACY = 0.85
MIN_HELDOUT_PER_FILE = 5

SELF_HARM_ONLY = (
    "The client says she has decided to kill herself tonight with the pills she has been "
    "saving. She has never been violent and is not angry at anyone."
)
THREAT_AND_SUICIDE = (
    "The client said he is going to shoot his ex-wife tonight and then kill himself. "
    "His rifle is loaded in the truck."
)
ADULT_RECALLS = (
    "Ms. L., a woman in her thirties, tells her therapist that when she was nine her uncle "
    "molested her. The uncle died years ago and she has no children in her life."
)
CAREGIVER_NEGLECT = (
    "The client admits that she has been leaving her 84-year-old mother, who has dementia, "
    "alone for days at a time. Her mother has lost weight and has bedsores."
)
CHILD_DISCLOSES = (
    "A 9-year-old boy tells the school counselor that his stepfather beats him with a belt, "
    "and shows welts on his legs."
)


@pytest.fixture(scope="module")
def rubrics() -> dict[str, Rubric]:
    return {r.id: r for r in load_rubrics()}


def triage(text: str, rubrics: dict[str, Rubric]) -> dict[str, Assessment]:
    [assessments] = score_all([Vignette(id="case", text=text)], list(rubrics.values()))
    return {a.rubric: a for a in assessments}


def test_every_exception_rubric_is_bundled(rubrics: dict[str, Rubric]) -> None:
    assert set(FOUR_RUBRICS) <= set(rubrics)


def test_self_harm_only_is_not_a_duty_to_protect(rubrics: dict[str, Rubric]) -> None:
    out = triage(SELF_HARM_ONLY, rubrics)
    assert out["duty_to_protect"].duty == "not_triggered", out["duty_to_protect"].rationale
    assert out["self_harm"].duty in ("required", "permitted"), out["self_harm"].rationale
    assert out["self_harm"].action in ("emergency_evaluation", "hospitalize")
    assert rubrics["self_harm"].action(out["self_harm"].action).appropriate
    assert out["child_abuse"].duty == "not_triggered"
    assert out["elder_abuse"].duty == "not_triggered"


def test_threat_and_suicidal_intent_are_reported_under_both(rubrics: dict[str, Rubric]) -> None:
    out = triage(THREAT_AND_SUICIDE, rubrics)
    assert out["duty_to_protect"].duty == "required", out["duty_to_protect"].rationale
    assert out["self_harm"].duty == "required", out["self_harm"].rationale
    assert {"suicidal_intent", "suicide_imminent"} <= set(out["self_harm"].fired)
    assert out["child_abuse"].duty == "not_triggered"


def test_adult_recalling_childhood_abuse_is_not_reportable(rubrics: dict[str, Rubric]) -> None:
    a = triage(ADULT_RECALLS, rubrics)["child_abuse"]
    assert a.duty == "not_triggered", a.rationale
    assert "adult_recollection" in a.fired
    # the molestation was seen, and cancelled as historical, not missed
    assert any(f.criterion == "sexual_abuse" and f.cancelled for f in a.findings)


def test_caregiver_admitting_neglect_of_a_parent_must_report(rubrics: dict[str, Rubric]) -> None:
    out = triage(CAREGIVER_NEGLECT, rubrics)
    assert out["elder_abuse"].duty == "required", out["elder_abuse"].rationale
    assert out["elder_abuse"].action == "report_to_aps"
    assert {"elder_victim", "elder_neglect"} <= set(out["elder_abuse"].fired)
    assert out["child_abuse"].duty == "not_triggered"
    assert out["duty_to_protect"].duty == "not_triggered"


def test_mandated_report_is_not_a_duty_to_warn(rubrics: dict[str, Rubric]) -> None:
    out = triage(CHILD_DISCLOSES, rubrics)
    assert out["child_abuse"].duty == "required", out["child_abuse"].rationale
    assert out["child_abuse"].action == "report_to_cps"
    assert out["duty_to_protect"].duty == "not_triggered"
    assert out["duty_to_protect"].action != "warn_and_notify"


# ----------------------------------------------------------------------- the labelled data


def _bundled() -> list[tuple[str, Vignette]]:
    out: list[tuple[str, Vignette]] = []
    for rubric_id, name in EXCEPTION_FILES.items():
        out.extend((rubric_id, v) for v in read_vignettes(VIGNETTE_DIR / name, strict=True))
    return out


BUNDLED = _bundled()


def _assert_full_labels(rubric: Rubric, v: Vignette) -> None:
    """A gold duty for all four rubrics and every criterion of ``rubric``."""
    assert set(FOUR_RUBRICS) <= set(v.labels), v.id
    for rid in FOUR_RUBRICS:
        assert v.labels[rid]["duty"] in DUTIES, (v.id, rid)
    missing = set(rubric.criterion_ids) - set(v.labels[rubric.id])
    assert not missing, (v.id, missing)


@pytest.mark.parametrize("rubric_id", list(EXCEPTION_FILES))
def test_vignette_files_carry_full_labels(rubric_id: str) -> None:
    rubric = load_rubric(rubric_id)
    mine = [v for r, v in BUNDLED if r == rubric_id]
    assert len(mine) >= 15
    assert sum(v.split == "heldout" for v in mine) >= MIN_HELDOUT_PER_FILE
    assert {v.split for v in mine} == {"tuning", "heldout"}
    # the held-out split is written first in each file
    splits = [v.split for v in mine]
    assert splits == sorted(splits, key=lambda s: s != "heldout")
    for v in mine:
        _assert_full_labels(rubric, v)


@pytest.mark.parametrize(
    ("rubric_id", "name"), [(r, n) for r, names in TUNING_ONLY_FILES.items() for n in names]
)
def test_tuning_only_files_carry_full_labels(rubric_id: str, name: str) -> None:
    rubric = load_rubric(rubric_id)
    tag = "exception-" + rubric_id.replace("_", "-")
    mine = read_vignettes(VIGNETTE_DIR / name, strict=True)
    assert len(mine) >= 15
    for v in mine:
        assert v.split == "tuning", v.id
        assert tag in v.tags, v.id
        _assert_full_labels(rubric, v)


@pytest.mark.parametrize("rubric_id", list(EXCEPTION_FILES))
def test_exam_items_key_an_appropriate_action(rubric_id: str) -> None:
    rubric = load_rubric(rubric_id)
    items = [v for r, v in BUNDLED if r == rubric_id and v.options]
    assert items
    for v in items:
        assert v.answer in v.options, v.id
        assert set(v.options) <= {a.id for a in rubric.actions}, v.id
        assert rubric.action(v.answer).appropriate, v.id
        assert any(not rubric.action(o).appropriate for o in v.options), v.id


@pytest.mark.parametrize("rubric_id", list(EXCEPTION_FILES))
def test_exam_options_name_their_rubric(rubric_id: str, rubrics: dict[str, Rubric]) -> None:
    # A quiz shows the action labels of the one rubric whose actions cover the options, so
    # shared ids (maintain_confidentiality, emergency_evaluation) must not make that ambiguous.
    tag = "exception-" + rubric_id.replace("_", "-")
    for _, v in (item for item in BUNDLED if item[0] == rubric_id):
        assert tag in v.tags, v.id
        if not v.options:
            continue
        owners = [r.id for r in rubrics.values() if set(v.options) <= {a.id for a in r.actions}]
        assert owners == [rubric_id], (v.id, owners)


@pytest.mark.parametrize("rubric_id", FOUR_RUBRICS)
def test_heldout_duty_accuracy(rubric_id: str, rubrics: dict[str, Rubric]) -> None:
    cases = [v for _, v in BUNDLED if v.split == "heldout" and rubric_id in v.labels]
    assert cases
    results = score_all(cases, [rubrics[rubric_id]])
    confusion: Counter[tuple[str, str]] = Counter()
    wrong = []
    for v, [a] in zip(cases, results, strict=True):
        gold = v.labels[rubric_id]["duty"]
        confusion[(gold, a.duty)] += 1
        if gold != a.duty:
            wrong.append(f"{v.id}: gold {gold}, scored {a.duty} (fired {', '.join(a.fired)})")
    accuracy = sum(n for (g, p), n in confusion.items() if g == p) / len(cases)
    table = "\n".join(f"  gold {g:>13} -> scored {p:>13}: {n}" for (g, p), n in confusion.items())
    assert accuracy >= MIN_HELDOUT_ACCURACY, (
        f"{rubric_id}: held-out duty accuracy {accuracy:.3f} over {len(cases)} cases\n"
        f"{table}\nerrors:\n  " + "\n  ".join(wrong)
    )
