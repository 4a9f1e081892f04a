"""Tests for casekit.law: the jurisdiction table loader and decide()."""

from __future__ import annotations

import csv
import dataclasses
import itertools
from pathlib import Path

import pytest

from casekit import law
from casekit.errors import CasekitError, DataFormatError
from casekit.law import (
    ACTIONS,
    COLUMNS,
    Jurisdiction,
    LawDecision,
    decide,
    get_jurisdiction,
    load_jurisdictions,
)
from casekit.model import JURISDICTION_CODES, US_JURISDICTIONS

SEVEN = (
    "threat_communicated",
    "serious_violence",
    "identifiable_victim",
    "imminent",
    "means_or_plan",
    "violence_history",
    "reported_by_third_party",
)
DISTRACTORS = {"inform_family", "advise_client_self_manage", "contact_victim_lawyer"}
DISTRACTORS |= {"maintain_confidentiality"}

# --- helpers -----------------------------------------------------------------------------


def bundled_rows() -> list[dict[str, str]]:
    with law.jurisdictions_path().open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def write_table(tmp_path: Path, rows: list[dict[str, str]], columns=COLUMNS) -> Path:
    path = tmp_path / "jurisdictions.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(columns), extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return path


def problems_of(path: Path) -> list:
    with pytest.raises(DataFormatError) as info:
        load_jurisdictions(path)
    return list(info.value.problems)


def F(*ids: str) -> frozenset[str]:
    return frozenset(ids)


# --- the bundled table -----------------------------------------------------------------


def test_bundled_table_has_every_code_once():
    table = load_jurisdictions()
    assert set(table) == set(JURISDICTION_CODES)
    assert len(table) == 52
    assert all(isinstance(row, Jurisdiction) for row in table.values())
    for code, name in US_JURISDICTIONS.items():
        assert table[code].name == name


def test_bundled_table_is_cached_and_read_only():
    assert load_jurisdictions() is load_jurisdictions()
    with pytest.raises(TypeError):
        load_jurisdictions()["XX"] = None  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        get_jurisdiction("CA").duty_type = "permissive"  # type: ignore[misc]


def test_unsettled_rows_say_why():
    for row in load_jurisdictions().values():
        if row.confidence != "confirmed":
            assert row.confidence_note, row.code
            assert decide(row, F(*SEVEN)).cautions, row.code


def test_list_columns_are_tuples():
    ca = get_jurisdiction("CA")
    assert isinstance(ca.professions, tuple)
    assert isinstance(ca.discharge, tuple) and isinstance(ca.discharge[0], tuple)
    assert ca.citations[0] == "Cal. Civ. Code §43.92"
    il = get_jurisdiction("IL")
    assert il.discharge == (("warn_victim", "notify_police"), ("hospitalization",))


@pytest.mark.parametrize("code", ["ca", "Ca", " CA ", "generic", "GENERIC", "dc"])
def test_get_jurisdiction_is_case_insensitive(code):
    assert get_jurisdiction(code).code == code.strip().upper().replace("GENERIC", "generic")


@pytest.mark.parametrize("code", ["XX", "PR", "", "California"])
def test_get_jurisdiction_unknown(code):
    with pytest.raises(CasekitError) as info:
        get_jurisdiction(code)
    message = str(info.value)
    assert "US postal codes" in message and "'DC'" in message and "'generic'" in message
    assert message == law.UNKNOWN_JURISDICTION.format(code=code)


# --- loader validation -----------------------------------------------------------------


def test_bundled_rows_round_trip(tmp_path):
    path = write_table(tmp_path, bundled_rows())
    assert load_jurisdictions(path) == load_jurisdictions()


def test_unknown_code(tmp_path):
    rows = bundled_rows()
    rows.append({**rows[1], "code": "XX"})
    (problem,) = problems_of(write_table(tmp_path, rows))
    assert problem.message == law.UNKNOWN_CODE.format(code="XX")
    assert problem.field == "code" and problem.id == "XX"
    assert problem.record == 52 and problem.line == 54
    assert "line 54" in str(problem) and "jurisdictions.csv" in str(problem)


def test_duplicate_code(tmp_path):
    rows = bundled_rows()
    ca_line = next(i for i, r in enumerate(rows) if r["code"] == "CA") + 2
    rows.append(dict(rows[ca_line - 2]))
    (problem,) = problems_of(write_table(tmp_path, rows))
    assert problem.message == law.DUPLICATE_CODE.format(code="CA", first=ca_line)
    assert problem.kind == "duplicate" and problem.id == "CA" and problem.line == 54


def test_missing_code(tmp_path):
    rows = [r for r in bundled_rows() if r["code"] not in ("WY", "generic")]
    (problem,) = problems_of(write_table(tmp_path, rows))
    assert problem.message == law.MISSING_CODES.format(codes="WY, generic")


def test_bad_vocabulary_value_names_line_record_column_and_allowed(tmp_path):
    rows = bundled_rows()
    index = next(i for i, r in enumerate(rows) if r["code"] == "TX")
    rows[index]["duty_type"] = "mandatroy"
    rows[index]["professions"] = "psychologists;wizards"
    problems = problems_of(write_table(tmp_path, rows))
    assert [(p.field, p.id, p.record, p.line) for p in problems] == [
        ("duty_type", "TX", index, index + 2),
        ("professions", "TX", index, index + 2),
    ]
    assert problems[0].message == law.BAD_VALUE.format(
        column="duty_type",
        value="mandatroy",
        allowed="mandatory, mandatory_report, permissive, none_unsettled",
    )
    assert "'wizards'" in problems[1].message and "psychologists" in problems[1].message


def test_bad_discharge_step_and_date(tmp_path):
    rows = bundled_rows()
    index = next(i for i, r in enumerate(rows) if r["code"] == "UT")
    rows[index]["discharge"] = "warn_victim+call_lawyer"
    rows[index]["last_checked"] = "27/11/2026"
    fields = {p.field: p.message for p in problems_of(write_table(tmp_path, rows))}
    assert "call_lawyer" in fields["discharge"] and "warn_victim" in fields["discharge"]
    assert fields["last_checked"] == law.BAD_DATE.format(value="27/11/2026")


def test_inconsistent_columns(tmp_path):
    rows = bundled_rows()
    by_code = {r["code"]: r for r in rows}
    by_code["AZ"]["imminence_required"] = "no"  # explicit imminent threat without imminence
    by_code["WA"]["no_victim_duty"] = "none"  # foreseeable victims without a no-victim route
    by_code["GA"]["confidence_note"] = ""  # conflicting row that does not say why
    by_code["CA"]["discharge"] = ""  # mandatory duty with nothing to do
    problems = problems_of(write_table(tmp_path, rows))
    got = {(p.id, p.field) for p in problems}
    assert ("AZ", "imminence_required") in got
    assert ("WA", "no_victim_duty") in got or ("WA", "no_victim_action") in got
    assert ("GA", "confidence_note") in got
    assert ("CA", "discharge") in got or ("CA", "discharge_mode") in got


def test_missing_and_unknown_columns(tmp_path):
    columns = [c for c in COLUMNS if c != "victim"] + ["notes"]
    path = write_table(tmp_path, bundled_rows(), columns=columns)
    problems = problems_of(path)
    assert problems[0].message == law.MISSING_COLUMNS.format(columns="victim")
    assert "'notes'" in problems[1].message
    assert all(p.line == 1 for p in problems)


def test_all_problems_collected_once(tmp_path):
    rows = bundled_rows()
    rows[3]["threat"] = "rude"
    rows[7]["victim"] = "anyone"
    rows.append({**rows[1], "code": "ZZ"})
    problems = problems_of(write_table(tmp_path, rows))
    assert len(problems) == 3
    assert str(DataFormatError(problems)).startswith("3 problems found")


def test_empty_file(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("")
    (problem,) = problems_of(path)
    assert problem.message == law.EMPTY_FILE


# --- the generic Tarasoff rule, exhaustively ---------------------------------------------


def generic_rule(fired: frozenset[str]) -> tuple[str, str]:
    if {"threat_communicated", "serious_violence", "identifiable_victim"} <= fired:
        return "required", "warn_and_notify"
    if {"threat_communicated", "serious_violence"} <= fired:
        return "permitted", "emergency_evaluation"
    return "not_triggered", "assess_and_document"


SUBSETS = [frozenset(c) for n in range(len(SEVEN) + 1) for c in itertools.combinations(SEVEN, n)]


def test_all_subsets_enumerated():
    assert len(SUBSETS) == 2 ** len(SEVEN) == 128


@pytest.mark.parametrize("fired", SUBSETS, ids=lambda s: "+".join(sorted(s)) or "none")
def test_generic_matches_tarasoff_rule(fired):
    decision = decide(get_jurisdiction("generic"), fired)
    assert (decision.duty, decision.action) == generic_rule(fired)
    assert decision.alternatives == ()
    assert "Tarasoff" in decision.rationale
    assert decision.cautions == ()


# --- state decisions, each turning on the state's distinctive element ------------------

BASE = F("threat_communicated", "serious_violence", "identifiable_victim")


def check(decision: LawDecision, duty: str, action: str, *words: str) -> None:
    assert (decision.duty, decision.action) == (duty, action), decision
    for word in words:
        assert word in decision.element or word in decision.rationale, (word, decision)
        assert word.lower() in decision.rationale.lower(), (word, decision.rationale)
    assert any(c in decision.rationale for c in decision.citations), decision.rationale
    assert decision.action in ACTIONS
    assert not set(decision.alternatives) & DISTRACTORS


def test_arizona_needs_imminence_and_intent_ability():
    az = get_jurisdiction("AZ")
    check(decide(az, BASE | {"imminent", "means_or_plan"}), "required", "warn_and_notify")
    missing_imminence = decide(az, BASE | {"means_or_plan"})
    check(missing_imminence, "not_triggered", "assess_and_document", "imminence")
    missing_intent = decide(az, BASE | {"imminent"})
    check(missing_intent, "not_triggered", "assess_and_document", "intent and ability")
    assert "A.R.S. §36-517.02" in missing_intent.rationale
    # Generic Tarasoff needs neither.
    assert decide(get_jurisdiction("generic"), BASE).duty == "required"


def test_arizona_discharge_requires_every_step():
    decision = decide(get_jurisdiction("AZ"), BASE | {"imminent", "means_or_plan"})
    assert decision.alternatives == ()
    assert "All of these are required" in decision.rationale
    assert "hospitalization" in decision.rationale


def test_california_counts_a_family_report():
    fired = BASE | {"reported_by_third_party"}
    ca = decide(get_jurisdiction("CA"), fired)
    check(ca, "required", "warn_and_notify", "family member")
    assert "Ewing" in ca.rationale
    assert any("family member" in c for c in ca.cautions)
    # A client-only state does not count the same report.
    ut = decide(get_jurisdiction("UT"), fired)
    check(ut, "not_triggered", "assess_and_document", "third party")
    assert decide(get_jurisdiction("UT"), BASE).duty == "required"


def test_ohio_counts_a_knowledgeable_person():
    fired = BASE | {"reported_by_third_party", "imminent", "means_or_plan"}
    check(decide(get_jurisdiction("OH"), fired), "required", "warn_and_notify", "knowledgeable")


def test_texas_only_permits_disclosure():
    tx = get_jurisdiction("TX")
    check(decide(tx, BASE | {"imminent"}), "permitted", "may_disclose", "permits")
    check(decide(tx, BASE), "not_triggered", "assess_and_document", "imminence")
    # No victim is needed for Texas's permission.
    fired = F("threat_communicated", "serious_violence", "imminent")
    assert decide(tx, fired).action == "may_disclose"


def test_florida_requires_notifying_police():
    fired = BASE | {"imminent", "means_or_plan"}
    decision = decide(get_jurisdiction("FL"), fired)
    check(decision, "required", "notify_police", "law enforcement")
    assert "§456.059" in decision.rationale
    check(decide(get_jurisdiction("FL"), BASE), "not_triggered", "assess_and_document")


def test_kentucky_notifies_police_without_identifiable_victim():
    ky = get_jurisdiction("KY")
    fired = F("threat_communicated", "serious_violence")
    check(decide(ky, fired), "required", "notify_police", "no identifiable victim", "KRS 202A.400")
    check(decide(ky, BASE), "required", "warn_and_notify")
    assert decide(ky, BASE).alternatives == ("hospitalize",)
    # Elsewhere the same facts trigger nothing.
    check(decide(get_jurisdiction("UT"), fired), "not_triggered", "assess_and_document", "victim")


def test_colorado_counts_victims_identified_by_location():
    fired = F("threat_communicated", "serious_violence", "imminent", "group_or_location_victim")
    decision = decide(get_jurisdiction("CO"), fired)
    check(decision, "required", "warn_and_notify", "place or entity", "C.R.S. §13-21-117")
    assert decision.alternatives == ("hospitalize",)
    # A state whose victim must be reasonably identifiable does not count the group.
    fired_ut = fired - {"imminent"}
    assert decide(get_jurisdiction("UT"), fired_ut).duty == "not_triggered"


def test_new_hampshire_counts_property_threats():
    fired = F("threat_communicated", "property_threat")
    decision = decide(get_jurisdiction("NH"), fired)
    check(decision, "required", "notify_police", "property", "RSA 329:31")
    assert "hospitalize" in decision.alternatives
    assert decide(get_jurisdiction("CA"), fired).duty == "not_triggered"


def test_massachusetts_history_is_an_alternative_to_intent_and_ability():
    ma = get_jurisdiction("MA")
    with_history = decide(ma, BASE | {"violence_history"})
    check(with_history, "required", "warn_and_notify", "history of physical violence")
    assert with_history.alternatives == ("notify_police", "hospitalize")
    check(decide(ma, BASE | {"means_or_plan"}), "required", "warn_and_notify")
    check(decide(ma, BASE), "not_triggered", "assess_and_document", "history")


def test_maryland_needs_known_propensity_and_offers_treatment_plan():
    md = get_jurisdiction("MD")
    fired = BASE | {"imminent"}
    check(decide(md, fired), "not_triggered", "assess_and_document", "propensity for violence")
    decision = decide(md, fired | {"violence_history"})
    check(decision, "required", "warn_and_notify", "propensity", "§5-609")
    assert decision.alternatives == ("hospitalize", "treatment_plan")
    assert "alternatives" in decision.rationale


@pytest.mark.parametrize("code", ["IL", "MI", "NV"])
def test_hospitalization_alone_discharges(code):
    fired = BASE | {"imminent", "means_or_plan"}
    decision = decide(get_jurisdiction(code), fired)
    check(decision, "required", "warn_and_notify")
    assert decision.alternatives == ("hospitalize",)
    assert "hospitalization" in decision.rationale and "alternatives" in decision.rationale


def test_michigan_and_nevada_need_intent_and_ability():
    for code in ("MI", "NV"):
        decision = decide(get_jurisdiction(code), BASE | {"imminent"})
        check(decision, "not_triggered", "assess_and_document", "intent and ability")


def test_new_york_reports_to_county_director():
    fired = F("threat_communicated", "serious_violence")
    decision = decide(get_jurisdiction("NY"), fired)
    check(decision, "required", "report_to_authority", "§9.46")
    assert "county director of community services" in decision.rationale


def test_washington_protects_foreseeable_victims():
    fired = F("threat_communicated", "serious_violence")
    decision = decide(get_jurisdiction("WA"), fired)
    check(decision, "required", "emergency_evaluation", "no identifiable victim", "Volk")
    check(decide(get_jurisdiction("WA"), BASE), "required", "warn_and_notify")


def test_maine_covers_threats_to_self():
    decision = decide(get_jurisdiction("ME"), F("self_harm"))
    check(decision, "required", "hospitalize", "self")
    assert decide(get_jurisdiction("CA"), F("self_harm")).duty == "not_triggered"


def test_unsettled_state_never_presented_as_settled():
    hi = decide(get_jurisdiction("HI"), BASE | {"imminent", "means_or_plan"})
    check(hi, "not_triggered", "assess_and_document", "no statute or settled case law")
    assert any("conflict" in c for c in hi.cautions)
    ga = decide(get_jurisdiction("GA"), BASE)
    assert ga.cautions and "J14" in ga.cautions[0]


def test_narrow_coverage_is_flagged():
    decision = decide(get_jurisdiction("ND"), BASE)
    check(decision, "required", "warn_and_notify")
    assert any("covers only: mfts" in c for c in decision.cautions)


# --- decide() reads the columns, not the code --------------------------------------------


def test_corrected_row_changes_outcome():
    ut = get_jurisdiction("UT")
    assert decide(ut, BASE).duty == "required"
    as_permissive = dataclasses.replace(ut, duty_type="permissive", discharge_mode="none")
    assert (decide(as_permissive, BASE).duty, decide(as_permissive, BASE).action) == (
        "permitted",
        "may_disclose",
    )
    with_imminence = dataclasses.replace(ut, imminence_required=True)
    assert decide(with_imminence, BASE).element == "imminence of the threatened harm"
    hospital_first = dataclasses.replace(ut, discharge=(("hospitalization",), ("warn_victim",)))
    assert decide(hospital_first, BASE).action == "hospitalize"
    assert decide(hospital_first, BASE).alternatives == ("warn_and_notify",)


def test_same_columns_same_outcome_whatever_the_code():
    ky = get_jurisdiction("KY")
    renamed = dataclasses.replace(ky, code="UT", name="Utah")
    fired = F("threat_communicated", "serious_violence")
    assert decide(renamed, fired).action == decide(ky, fired).action == "notify_police"


@pytest.mark.parametrize("code", sorted(JURISDICTION_CODES))
@pytest.mark.parametrize("fired", [F(), BASE, BASE | set(SEVEN), F(*law.CRITERIA)])
def test_every_row_gives_a_valid_decision(code, fired):
    decision = decide(get_jurisdiction(code), fired)
    assert decision.duty in ("required", "permitted", "not_triggered")
    assert decision.action in ACTIONS and not DISTRACTORS & {decision.action}
    assert set(decision.alternatives) <= set(ACTIONS) - {decision.action}
    assert decision.element and decision.rationale.count(".") >= 1
    assert decision.citations == get_jurisdiction(code).citations
    if not fired:
        assert decision.duty == "not_triggered"


def test_third_party_reports_count_where_the_trigger_is_professional_judgment():
    fired = F("threat_communicated", "serious_violence", "reported_by_third_party")
    check(decide(get_jurisdiction("NY"), fired), "required", "report_to_authority", "third party")
    assert get_jurisdiction("NY").communicated_by == "any_source"
    # The same report does not satisfy Kentucky's "patient has communicated".
    check(decide(get_jurisdiction("KY"), fired), "not_triggered", "assess_and_document")
