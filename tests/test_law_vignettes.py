"""Vignette-level tests: text -> fired criteria (scoring) -> state law (casekit.law).

Each vignette is short and written so that the criteria it fires are stated first; the
outcome assertions then check that the state's distinctive element decides it.
"""

from __future__ import annotations

import pytest

from casekit.law import get_jurisdiction
from casekit.model import Vignette
from casekit.scoring import score

TONIGHT_WITH_GUN = (
    "The client said he is going to shoot his ex-wife tonight. He bought a gun last week."
)
FATHER_REPORTS = (
    "The client's father called and said his son told him he plans to kill his coworker Dan."
)
NO_VICTIM = "The client said he wants to kill someone."
BARE_THREAT = "The client said he is going to stab his brother."
HISTORY_NEXT_WEEK = (
    "The client said he will beat his neighbor to death next week. "
    "He has two prior arrests for assault."
)

BASE = {"threat_communicated", "serious_violence", "identifiable_victim"}


def scored(text: str, code: str, expect_fired: set[str], expect_silent: set[str] = frozenset()):
    assessment = score(Vignette(id="v", text=text), jurisdiction=code)
    fired = set(assessment.fired)
    assert expect_fired <= fired, (text, fired)
    assert not (expect_silent & fired), (text, fired)
    return assessment


@pytest.mark.parametrize(
    ("code", "duty", "action"),
    [
        ("generic", "required", "warn_and_notify"),
        ("AZ", "required", "warn_and_notify"),
        ("TX", "permitted", "may_disclose"),
        ("FL", "required", "notify_police"),
        ("NY", "required", "report_to_authority"),
        ("MD", "not_triggered", "assess_and_document"),  # no known propensity for violence
    ],
)
def test_imminent_threat_with_means(code, duty, action):
    a = scored(TONIGHT_WITH_GUN, code, BASE | {"imminent", "means_or_plan"}, {"violence_history"})
    assert (a.duty, a.action) == (duty, action)
    assert a.jurisdiction == code
    if code != "generic":
        assert a.rule == f"law:{code}"
        assert a.citations == get_jurisdiction(code).citations


def test_arizona_needs_imminence_and_means():
    a = scored(BARE_THREAT, "AZ", BASE, {"imminent", "means_or_plan"})
    assert (a.duty, a.action) == ("not_triggered", "assess_and_document")
    assert "imminence" in a.rationale
    assert score(Vignette(id="v", text=BARE_THREAT), jurisdiction="generic").duty == "required"


def test_california_counts_the_fathers_report_arizona_does_not():
    fired = BASE | {"reported_by_third_party"}
    ca = scored(FATHER_REPORTS, "CA", fired)
    assert (ca.duty, ca.action) == ("required", "warn_and_notify")
    assert "Ewing" in ca.rationale and ca.cautions
    az = scored(FATHER_REPORTS, "AZ", fired)
    assert az.duty == "not_triggered"


@pytest.mark.parametrize(
    ("code", "duty", "action"),
    [
        ("generic", "permitted", "emergency_evaluation"),
        ("KY", "required", "notify_police"),
        ("NY", "required", "report_to_authority"),
        ("WA", "required", "emergency_evaluation"),
        ("UT", "not_triggered", "assess_and_document"),
        ("CA", "not_triggered", "assess_and_document"),
    ],
)
def test_threat_without_identifiable_victim(code, duty, action):
    a = scored(
        NO_VICTIM, code, {"threat_communicated", "serious_violence"}, {"identifiable_victim"}
    )
    assert (a.duty, a.action) == (duty, action)


def test_massachusetts_history_replaces_means():
    ma = scored(HISTORY_NEXT_WEEK, "MA", BASE | {"violence_history"}, {"means_or_plan"})
    assert (ma.duty, ma.action) == ("required", "warn_and_notify")
    assert "history" in ma.rationale
    bare = scored(BARE_THREAT, "MA", BASE, {"violence_history", "means_or_plan"})
    assert bare.duty == "not_triggered"


def test_maryland_with_known_propensity_lists_alternatives():
    md = scored(HISTORY_NEXT_WEEK, "MD", BASE | {"imminent", "violence_history"})
    assert (md.duty, md.action) == ("required", "warn_and_notify")
    assert "treatment plan" in md.rationale and "hospitalization" in md.rationale


@pytest.mark.parametrize("code", ["IL", "MI", "NV"])
def test_hospitalization_alternative_is_explained(code):
    a = scored(TONIGHT_WITH_GUN, code, BASE | {"imminent", "means_or_plan"})
    assert (a.duty, a.action) == ("required", "warn_and_notify")
    assert "hospitalization" in a.rationale


def test_unsettled_jurisdiction_carries_cautions():
    a = scored(TONIGHT_WITH_GUN, "HI", BASE)
    assert (a.duty, a.action) == ("not_triggered", "assess_and_document")
    assert a.cautions and "conflict" in a.cautions[0]


def test_vignette_jurisdiction_field_is_used():
    v = Vignette(id="v", text=NO_VICTIM, jurisdiction="KY")
    assert score(v).action == "notify_police"
    assert score(v, jurisdiction="generic").action == "emergency_evaluation"


# --- the law-element criteria added to the rubric for these states -----------------------


def test_new_hampshire_counts_a_serious_threat_to_property():
    text = "The client said he is going to burn down his landlord's empty barn this weekend."
    nh = scored(text, "NH", {"threat_communicated", "property_threat"}, {"serious_violence"})
    assert nh.duty == "required"
    assert "property" in nh.rationale.lower()
    ca = score(Vignette(id="v", text=text), jurisdiction="CA")
    assert ca.duty == "not_triggered"


def test_colorado_counts_victims_identified_by_a_place():
    text = "He said he is going to shoot everyone at the clinic tomorrow; it is where he was fired."
    co = scored(text, "CO", {"threat_communicated", "serious_violence", "group_or_location_victim"})
    assert co.duty == "required"
    assert "location" in co.element or "place" in co.element or "group" in co.element


def test_self_harm_is_its_own_criterion_and_never_a_threat_to_others():
    a = scored(
        "She says she wants to kill herself tonight.",
        "generic",
        {"self_harm"},
        {"threat_communicated", "identifiable_victim"},
    )
    assert a.duty == "not_triggered"
