"""Every bundled vignette file: labels that obey the rubric's own decision rules, exam items
that key an appropriate action, and held-out files that hold only held-out records.

These check the gold data, not the text detection: with every gold criterion given as a fact,
the decision rules must reproduce the annotator's duty (a label that contradicts the rules is
a labelling slip or a rule gap, and either would make the accuracy figures mean less).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from casekit.io import read_vignettes
from casekit.model import DUTIES, Vignette
from casekit.rules import Rubric, load_rubrics
from casekit.scoring import score

VIGNETTE_DIR = Path(__file__).resolve().parents[1] / "data" / "vignettes"
#: Tuning sets written but not yet trained on (``data/pending/README.md``): checked the same way.
PENDING_DIR = VIGNETTE_DIR.parent / "pending"
FILES = sorted(
    p
    for folder in (VIGNETTE_DIR, PENDING_DIR / "vignettes")
    if folder.is_dir()
    for p in folder.iterdir()
    if p.suffix in (".yaml", ".csv", ".jsonl")
)
RUBRICS = {r.id: r for r in load_rubrics()}
# duty_to_protect's three law-element criteria (property, group, self-harm) are not part of
# the gold annotation: the seven criteria of DESIGN §4 are.
CORE = {"duty_to_protect": RUBRICS["duty_to_protect"].criterion_ids[:7]}


def _records() -> list[tuple[str, Vignette]]:
    return [(path.name, v) for path in FILES for v in read_vignettes(path)]


RECORDS = _records()


def _fully_labelled(rubric: Rubric) -> list[Vignette]:
    needed = CORE.get(rubric.id, rubric.criterion_ids)
    return [v for _, v in RECORDS if all(c in v.labels.get(rubric.id, {}) for c in needed)]


@pytest.mark.parametrize("rubric_id", sorted(RUBRICS))
def test_gold_duty_follows_from_gold_criteria(rubric_id: str) -> None:
    rubric = RUBRICS[rubric_id]
    cases = _fully_labelled(rubric)
    assert len(cases) >= 15
    wrong = []
    for v in cases:
        gold = v.labels[rubric_id]
        facts = {c: bool(gold[c]) for c in rubric.criterion_ids if c in gold}
        given = dataclasses.replace(v, facts=facts)
        duty = score(given, rubric, jurisdiction="generic").duty
        if duty != gold["duty"]:
            wrong.append((v.id, gold["duty"], duty))
    assert not wrong


def test_every_record_is_labelled_with_a_known_duty_and_has_a_source() -> None:
    assert len(RECORDS) >= 300
    for name, v in RECORDS:
        assert v.source, (name, v.id)
        assert v.labels, (name, v.id)
        for rubric_id, gold in v.labels.items():
            assert rubric_id in RUBRICS, (name, v.id, rubric_id)
            assert gold["duty"] in DUTIES, (name, v.id, rubric_id)


def test_exam_items_key_an_appropriate_action_of_exactly_one_rubric() -> None:
    items = [(name, v) for name, v in RECORDS if v.options]
    assert len(items) >= 60
    for name, v in items:
        owners = [r for r in RUBRICS.values() if set(v.options) <= {a.id for a in r.actions}]
        assert len(owners) == 1, (name, v.id, [r.id for r in owners])
        rubric = owners[0]
        assert v.answer in v.options, (name, v.id)
        assert rubric.action(v.answer).appropriate, (name, v.id, v.answer)
        assert len(set(v.options)) == len(v.options) >= 3, (name, v.id)


@pytest.mark.parametrize("name", [p.name for p in FILES if "heldout" in p.stem])
def test_held_out_files_hold_only_held_out_records(name: str) -> None:
    mine = [v for file, v in RECORDS if file == name]
    assert len(mine) >= 20
    assert {v.split for v in mine} == {"heldout"}


@pytest.mark.parametrize("rubric", sorted(RUBRICS))
def test_a_tuning_set_with_evidence_marks_every_case_that_has_a_true_criterion(rubric: str) -> None:
    """A reader learns nothing from a positive case without marked evidence (it is skipped),
    so an evidence file that stops short of its set's last positive case loses training data
    silently. A set with no evidence for a rubric at all (older self_harm sets carry
    duty_to_protect labels only as negatives) is not checked."""
    from casekit.training import read_annotations

    records = [v for _, v in RECORDS]
    spans = read_annotations(rubric, records)
    if (PENDING_DIR / "annotations").is_dir():
        spans |= read_annotations(rubric, records, PENDING_DIR / "annotations")
    criteria = CORE.get(rubric, RUBRICS[rubric].criterion_ids)
    by_file: dict[str, list[Vignette]] = {}
    for name, v in RECORDS:
        if v.split == "tuning" and rubric in v.labels:
            by_file.setdefault(name, []).append(v)
    checked = 0
    for name, tuning in by_file.items():
        if not any(v.id in spans for v in tuning):
            continue
        positive = [v.id for v in tuning if any(v.labels[rubric].get(c) is True for c in criteria)]
        assert [vid for vid in positive if vid not in spans] == [], (name, rubric)
        checked += len(positive)
    assert checked >= 300


def test_pending_sets_are_tuning_sets_not_yet_in_the_training_folder() -> None:
    pending = {p.name for p in FILES if p.parent.parent == PENDING_DIR}
    assert pending.isdisjoint(p.name for p in VIGNETTE_DIR.iterdir())
    assert all(v.split == "tuning" for name, v in RECORDS if name in pending)


def test_per_rubric_calibration_tags_name_a_rubric_and_a_held_out_record_it_labels() -> None:
    """A ``calibration-<rubric>`` tag with a typo would silently leave the record in the
    held-out split (and out of the calibration the bundled reader was chosen on)."""
    from casekit.training import CALIBRATION_TAG, calibration_tag

    known = {calibration_tag(r): r for r in RUBRICS}
    wrong = []
    for name, v in RECORDS:
        for tag in v.tags:
            if tag.startswith(CALIBRATION_TAG + "-"):
                rubric = known.get(tag)
                if rubric is None or v.split != "heldout" or rubric not in v.labels:
                    wrong.append((name, v.id, tag))
    assert not wrong, wrong


@pytest.mark.parametrize(
    "rubric", sorted(p.stem for p in (VIGNETTE_DIR.parent / "readers").glob("*.json"))
)
def test_bundled_reader_was_chosen_on_the_records_tagged_for_its_calibration(rubric: str) -> None:
    """The model file records how many calibration records each criterion was chosen on;
    retagging records without retraining (or the reverse) would make ``make readers`` build
    a different reader from the one that ships."""
    import json

    from casekit.training import calibration_records

    model = json.loads((VIGNETTE_DIR.parent / "readers" / f"{rubric}.json").read_text())
    chosen_on = {c: r["n"] for c, r in model["provenance"]["calibration_f1"].items() if "n" in r}
    tagged = calibration_records(read_vignettes(VIGNETTE_DIR), rubric)
    assert chosen_on == {
        c: sum(isinstance(v.labels[rubric].get(c), bool) for v in tagged) for c in chosen_on
    }
