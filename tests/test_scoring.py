"""Scoring: decisions, facts, rationale, jurisdictions, and the DataFrame path."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from casekit.errors import CasekitError, DataFormatError
from casekit.io import read_vignettes, vignettes_to_frame
from casekit.model import Vignette
from casekit.rules import load_rubric
from casekit.scoring import FRAME_COLUMNS, score, score_all, score_frame

DTP = load_rubric("duty_to_protect")
THREAT = 'He said, "I am going to shoot my ex-wife tonight."'


def v(text: str, **kw) -> Vignette:
    return Vignette(id=kw.pop("id", "t"), text=text, **kw)


@pytest.mark.parametrize(
    ("text", "duty", "action", "rule"),
    [
        (THREAT, "required", "warn_and_notify", "tarasoff_duty"),
        (
            "He said he is going to shoot up a mall.",
            "permitted",
            "emergency_evaluation",
            "serious_threat_no_identifiable_victim",
        ),
        (
            "He threatened to slap his sister.",
            "not_triggered",
            "assess_and_document",
            "threat_not_serious",
        ),
        (
            "He denies any intent to hurt his ex-wife.",
            "not_triggered",
            "assess_and_document",
            "no_threat",
        ),
    ],
)
def test_generic_decisions(text: str, duty: str, action: str, rule: str) -> None:
    a = score(v(text))
    assert (a.duty, a.action, a.rule) == (duty, action, rule)
    assert a.rubric == "duty_to_protect" and a.jurisdiction == "generic"


def test_rationale_cites_criteria_evidence_and_the_rule() -> None:
    a = score(v(THREAT))
    assert 'threat communicated ("' in a.rationale
    assert '"shoot"' in a.rationale or '"shoot my ex-wife"' in a.rationale
    assert "Under the generic Tarasoff standard" in a.rationale
    assert "Warn the victim and notify law enforcement" in a.rationale
    assert a.citations and "Tarasoff" in a.citations[0]


def test_rationale_names_what_did_not_count() -> None:
    a = score(v("He was joking when he said he would kill his roommate."))
    assert a.duty == "not_triggered"
    assert "Not counted:" in a.rationale and "jest" in a.rationale


def test_facts_override_text_and_are_marked_given() -> None:
    a = score(v(THREAT, facts={"identifiable_victim": False, "violence_history": True}))
    assert "identifiable_victim" not in a.fired
    assert "violence_history" in a.fired
    assert dict(a.given) == {"identifiable_victim": False, "violence_history": True}
    assert a.duty == "permitted"
    assert "history of violence (given as a fact)" in a.rationale.lower()
    # findings from the text are still reported
    assert any(f.criterion == "identifiable_victim" for f in a.findings)


def test_unknown_fact_names_the_record_and_field() -> None:
    with pytest.raises(DataFormatError) as info:
        score(v("text", id="V9", facts={"threat_comunicated": True}))
    msg = str(info.value)
    assert "id 'V9'" in msg and "facts.threat_comunicated" in msg
    assert "known criteria: threat_communicated" in msg


def test_unknown_jurisdiction() -> None:
    with pytest.raises(CasekitError, match="'XX' is not a known code"):
        score(v(THREAT), jurisdiction="XX")


def test_jurisdiction_changes_the_outcome() -> None:
    generic = score(v(THREAT))
    texas = score(v(THREAT), jurisdiction="tx")
    assert texas.jurisdiction == "TX"
    assert (generic.duty, texas.duty) == ("required", "permitted")
    assert texas.rule == "law:TX"
    assert any("611" in c or "Thapar" in c for c in texas.citations)


def test_score_is_deterministic() -> None:
    assert score(v(THREAT)) == score(v(THREAT))


def test_score_all_runs_every_rubric_given() -> None:
    out = score_all([v(THREAT, id="a"), v("Nothing here.", id="b")], [DTP])
    assert [[a.vignette_id for a in row] for row in out] == [["a"], ["b"]]


def test_score_frame_columns_and_values() -> None:
    frame = pd.DataFrame({"id": ["a", "b"], "text": [THREAT, "He went to work."]})
    out = score_frame(frame)
    assert list(out.columns[: len(FRAME_COLUMNS)]) == list(FRAME_COLUMNS)
    assert list(out["vignette_id"]) == ["a", "b"]
    assert list(out["duty"]) == ["required", "not_triggered"]
    assert bool(out.loc[0, "threat_communicated"]) and not bool(out.loc[1, "threat_communicated"])
    assert str(out["imminent"].dtype) == "boolean"


def test_score_frame_requires_id_and_text() -> None:
    with pytest.raises(DataFormatError, match=r"missing required column.*text"):
        score_frame(pd.DataFrame({"id": ["a"]}))


def test_score_frame_uses_facts_and_jurisdiction_columns() -> None:
    frame = pd.DataFrame(
        {
            "id": ["a", "b"],
            "text": [THREAT, THREAT],
            "jurisdiction": ["generic", "TX"],
            "facts": [{"identifiable_victim": False}, None],
        }
    )
    out = score_frame(frame)
    assert list(out["duty"]) == ["permitted", "permitted"]
    assert list(out["jurisdiction"]) == ["generic", "TX"]


def test_score_frame_over_the_bundled_set_is_partitionwise() -> None:
    frame = vignettes_to_frame(read_vignettes("data/vignettes"))
    whole = score_frame(frame)
    parts = pd.concat(
        [score_frame(frame.iloc[i : i + 7]) for i in range(0, len(frame), 7)], ignore_index=True
    )
    pd.testing.assert_frame_equal(whole, parts)
    # every input record appears exactly once per rubric
    assert list(whole["vignette_id"]) == list(frame["id"])


@settings(max_examples=40, deadline=None)
@given(
    st.lists(
        st.sampled_from(
            [
                THREAT,
                "He went to work.",
                "He threatened to slap his sister.",
                "",
                "He denies any plan to hurt anyone.",
            ]
        ),
        min_size=1,
        max_size=12,
    ),
    st.integers(min_value=1, max_value=5),
)
def test_every_record_scored_exactly_once_in_any_partitioning(texts: list[str], size: int) -> None:
    frame = pd.DataFrame({"id": [f"r{i}" for i in range(len(texts))], "text": texts})
    parts = [score_frame(frame.iloc[i : i + size]) for i in range(0, len(frame), size)]
    out = pd.concat(parts, ignore_index=True)
    assert list(out["vignette_id"]) == list(frame["id"])
    pd.testing.assert_frame_equal(out, score_frame(frame))


def test_score_jurisdictions_equals_scoring_each_code() -> None:
    from casekit.scoring import score_jurisdictions

    codes = ["generic", "TX", "ca", "FL", "NH"]
    case = v(THREAT, facts={"violence_history": True})
    assert score_jurisdictions(case, DTP, codes) == [
        score(case, DTP, jurisdiction=c, explain=False) for c in codes
    ]
