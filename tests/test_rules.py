"""Rubric loading: closed keys, references, compiled patterns, one default rule, round trip."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from casekit.errors import RubricError
from casekit.rules import (
    bundled_rubrics,
    factor_alternatives,
    literal_pattern,
    load_rubric,
    parse_rubric,
)


def tiny() -> dict:
    """A minimal valid rubric, built fresh for each test."""
    return {
        "rubric": "tiny",
        "version": "1",
        "title": "Tiny",
        "terms": {"verb": ["hit", "kick"]},
        "context": [
            {"id": "neg", "category": "negated", "direction": "forward", "literal": ["no", "not"]},
        ],
        "criteria": [
            {
                "id": "violence",
                "label": "Violence",
                "description": "hits or kicks",
                "match": ["\\b{verb}\\b"],
                "cancel_on": ["negated"],
                "examples": {"fires": ["he will hit"], "silent": ["he will not hit"]},
            },
            {
                "id": "target",
                "label": "Target",
                "description": "his brother",
                "match": ["\\bbrother\\b"],
                "requires": [{"criterion": "violence", "scope": "sentence"}],
                "examples": {"fires": ["hit his brother"], "silent": ["his brother"]},
            },
        ],
        "actions": [
            {"id": "act", "label": "Act", "explanation": "do it", "appropriate": True},
            {
                "id": "ignore",
                "label": "Ignore",
                "explanation": "nothing",
                "appropriate": False,
                "reason": "it protects no one",
            },
        ],
        "rules": [
            {
                "id": "both",
                "when_all": ["violence", "target"],
                "duty_type": "required",
                "action": "act",
                "explanation": "both fired",
            },
            {
                "id": "otherwise",
                "default": True,
                "duty_type": "not_triggered",
                "action": "act",
                "explanation": "nothing fired",
            },
        ],
    }


def error_of(data: dict) -> str:
    with pytest.raises(RubricError) as info:
        parse_rubric(data)
    return str(info.value)


def test_tiny_rubric_parses_and_decides() -> None:
    rubric = parse_rubric(tiny())
    assert rubric.criterion_ids == ("violence", "target")
    assert rubric.decide({"violence", "target"}).id == "both"
    assert rubric.decide({"violence"}).id == "otherwise"
    assert rubric.default_rule.default


def test_bundled_rubrics_load_and_round_trip() -> None:
    assert "duty_to_protect" in bundled_rubrics()
    for name in bundled_rubrics():
        rubric = load_rubric(name)
        again = parse_rubric(yaml.safe_load(rubric.to_yaml()), source=rubric.source)
        assert again == rubric


def test_duty_to_protect_has_the_design_criteria_and_distractors() -> None:
    rubric = load_rubric("duty_to_protect")
    for cid in (
        "threat_communicated",
        "serious_violence",
        "identifiable_victim",
        "imminent",
        "means_or_plan",
        "violence_history",
        "reported_by_third_party",
    ):
        assert cid in rubric.criterion_ids
    distractors = {a.id for a in rubric.actions if not a.appropriate}
    assert distractors == {
        "inform_family",
        "advise_client_self_manage",
        "contact_victim_lawyer",
        "maintain_confidentiality",
    }
    assert all(rubric.action(a).reason for a in distractors)


def test_load_rubric_by_path_and_unknown_name(tmp_path: Path) -> None:
    path = tmp_path / "tiny.yaml"
    path.write_text(yaml.safe_dump(tiny()), encoding="utf-8")
    assert load_rubric(path).id == "tiny"
    with pytest.raises(RubricError, match=r"no rubric 'nope'.*duty_to_protect"):
        load_rubric("nope")


def test_unknown_key_names_rubric_criterion_key_and_allowed() -> None:
    data = tiny()
    data["criteria"][0]["weight"] = 2
    msg = error_of(data)
    assert "rubric 'tiny' criterion 'violence'" in msg
    assert "unknown key 'weight'" in msg
    assert "allowed keys are" in msg and "cancel_on" in msg


def test_missing_key_and_wrong_type() -> None:
    data = tiny()
    del data["actions"][0]["label"]
    data["criteria"][0]["match"] = "\\bhit\\b"
    msg = error_of(data)
    assert "action 'act': missing required key 'label'" in msg
    assert "key 'match' must be a list of strings, got str" in msg


def test_every_problem_is_reported_at_once() -> None:
    data = tiny()
    data["criteria"][0]["match"] = ["(unclosed"]
    data["rules"][0]["action"] = "vanish"
    data["context"][0]["direction"] = "sideways"
    msg = error_of(data)
    assert "does not compile" in msg
    assert "refers to unknown action 'vanish'" in msg
    assert "key 'direction' is 'sideways'; allowed values are forward" in msg


def test_unknown_term_and_uppercase_pattern() -> None:
    data = tiny()
    data["criteria"][0]["match"] = ["\\b{weapon}\\b", "\\bHit\\b"]
    msg = error_of(data)
    assert "unknown term {weapon}; known terms: verb" in msg
    assert "has upper-case letters" in msg


def test_escaped_uppercase_classes_are_allowed() -> None:
    data = tiny()
    data["criteria"][0]["match"] = ["\\bhit\\S*\\b"]
    assert parse_rubric(data).criteria[0].match == ("\\bhit\\S*\\b",)


def test_duplicate_ids() -> None:
    data = tiny()
    data["criteria"].append(copy.deepcopy(data["criteria"][0]))
    assert "criterion id 'violence' is defined more than once" in error_of(data)


def test_references_resolve() -> None:
    data = tiny()
    data["rules"][0]["when_all"] = ["violence", "ghost"]
    data["criteria"][1]["requires"] = [{"criterion": "phantom", "scope": "sentence"}]
    msg = error_of(data)
    assert "rule 'both': key 'when_all' refers to unknown criterion 'ghost'" in msg
    assert "key 'requires' refers to unknown criterion 'phantom'" in msg


def test_exactly_one_default_rule_and_it_is_last() -> None:
    data = tiny()
    data["rules"][0] = {**data["rules"][1], "id": "also_default"}
    assert "exactly one rule must have 'default: true' (found 2)" in error_of(data)
    data = tiny()
    data["rules"].reverse()
    data["rules"][0]["when_all"] = []
    msg = error_of(data)
    assert "the default rule 'otherwise' must be the last rule" in msg


def test_non_default_rule_needs_conditions() -> None:
    data = tiny()
    del data["rules"][0]["when_all"]
    assert "a non-default rule needs when_all, when_any or when_none" in error_of(data)


def test_requirement_cycle_is_an_error() -> None:
    data = tiny()
    data["criteria"][0]["requires"] = [{"criterion": "target", "scope": "sentence"}]
    assert "requirements form a cycle: violence -> target -> violence" in error_of(data)


def test_inappropriate_action_needs_a_reason() -> None:
    data = tiny()
    del data["actions"][1]["reason"]
    assert "action 'ignore': an inappropriate action (appropriate: false) needs a 'reason'" in (
        error_of(data)
    )


def test_examples_must_be_non_empty_lists() -> None:
    data = tiny()
    data["criteria"][0]["examples"]["fires"] = []
    assert "examples.fires must be a non-empty list of strings" in error_of(data)


def test_not_a_mapping() -> None:
    with pytest.raises(RubricError, match="must be a mapping, got list"):
        parse_rubric([1, 2])


def test_bad_yaml_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("rubric: [unclosed\n", encoding="utf-8")
    with pytest.raises(RubricError, match=r"broken\.yaml: not valid YAML"):
        load_rubric(path)


def test_factor_alternatives_is_a_trie_that_matches_the_same_words() -> None:
    import re

    words = ["kill", "killing", "knife", "kick", "gun", "guns", "k"]
    rx = re.compile(r"\b(?:" + factor_alternatives(words) + r")\b")
    flat = re.compile(r"\b(?:" + "|".join(sorted(words, key=len, reverse=True)) + r")\b")
    text = "k kill killing knife kicks gun guns gunk knifed"
    assert [m.group() for m in rx.finditer(text)] == [m.group() for m in flat.finditer(text)]
    # shared first letters are factored out, so the matcher tests "k" once
    assert factor_alternatives(["kill", "knife"]).startswith("k(?:")


def test_literal_pattern_allows_any_whitespace_inside_phrases() -> None:
    import re

    rx = re.compile(literal_pattern(["no longer", "no"]))
    assert [m.group() for m in rx.finditer("no\nlonger, no, nobody")] == ["no\nlonger", "no"]
