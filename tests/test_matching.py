"""The ConText engine: cue directions, scopes, terminators, pseudo cues, requirements."""

from __future__ import annotations

import dataclasses
import random

from hypothesis import given, settings
from hypothesis import strategies as st

from casekit.matching import Matcher, compile_rubric, sentence_spans
from casekit.rules import load_rubric, parse_rubric

RUBRIC = parse_rubric(
    {
        "rubric": "toy",
        "version": "1",
        "title": "Toy",
        "context": [
            {
                "id": "neg",
                "category": "negated",
                "direction": "forward",
                "literal": ["denies", "no"],
                "max_scope": 4,
            },
            {
                "id": "neg_after",
                "category": "negated",
                "direction": "backward",
                "literal": ["is denied"],
                "max_scope": 4,
            },
            {
                "id": "joke",
                "category": "jest",
                "direction": "bidirectional",
                "literal": ["joking"],
                "max_scope": 5,
            },
            {"id": "cond", "category": "conditional", "direction": "forward", "literal": ["if"]},
            {"id": "pseudo", "category": "pseudo", "direction": "pseudo", "literal": ["no doubt"]},
            {
                "id": "only_target",
                "category": "historical",
                "direction": "forward",
                "literal": ["years ago"],
                "allowed_types": ["target"],
            },
            {"id": "stop", "category": "terminate", "direction": "terminate", "literal": ["but"]},
        ],
        "criteria": [
            {
                "id": "harm",
                "label": "Harm",
                "description": "x",
                "match": ["\\bhurt\\b"],
                "cancel_on": ["negated", "jest", "historical"],
                "examples": {"fires": ["hurt"], "silent": ["no hurt"]},
            },
            {
                "id": "target",
                "label": "Target",
                "description": "x",
                "match": ["\\bbrother\\b"],
                "requires": [{"criterion": "harm", "scope": "sentence"}],
                "cancel_on": ["historical"],
                "examples": {"fires": ["hurt brother"], "silent": ["brother"]},
            },
            {
                "id": "weapon",
                "label": "Weapon",
                "description": "x",
                "match": ["\\bgun\\b"],
                "requires": [{"criterion": "harm", "scope": "vignette"}],
                "examples": {"fires": ["hurt. gun"], "silent": ["gun"]},
            },
            {
                "id": "soon",
                "label": "Soon",
                "description": "x",
                "match": ["\\btonight\\b"],
                "requires": [{"criterion": "harm", "scope": "adjacent"}],
                "examples": {"fires": ["hurt. tonight"], "silent": ["tonight"]},
            },
        ],
        "actions": [{"id": "a", "label": "A", "explanation": "x", "appropriate": True}],
        "rules": [
            {
                "id": "d",
                "default": True,
                "duty_type": "not_triggered",
                "action": "a",
                "explanation": "x",
            }
        ],
    }
)


def find(text: str, **kw):
    return compile_rubric(RUBRIC).find(text, **kw)


def live(text: str, **kw) -> set[str]:
    return {f.criterion for f in find(text, **kw) if not f.cancelled}


def categories(text: str, criterion: str = "harm") -> list[str]:
    return [m.category for f in find(text) if f.criterion == criterion for m in f.modifiers]


def test_sentence_spans_keep_abbreviations_and_quotes_together() -> None:
    t = 'Mr. K. said, "I will hurt him." Dr. R. asked why! Then e.g. nothing.\n\nNew part'
    assert [t[s:e] for s, e in sentence_spans(t)] == [
        'Mr. K. said, "I will hurt him."',
        "Dr. R. asked why!",
        "Then e.g. nothing.",
        "New part",
    ]
    assert sentence_spans("") == []


def test_forward_cue_negates_within_scope_only() -> None:
    assert categories("He denies he would hurt anyone.") == ["negated"]
    # max_scope 4 tokens: "hurt" is the 6th token after the cue
    assert categories("He denies that, after all this, he would hurt anyone.") == []
    assert "harm" not in live("He denies he would hurt anyone.")


def test_backward_cue_and_cue_does_not_cross_sentences() -> None:
    assert categories("Wanting to hurt anyone is denied.") == ["negated"]
    assert categories("He denies it. He will hurt him.") == []


def test_bidirectional_cue_reaches_both_ways() -> None:
    assert categories("He was joking that he would hurt him.") == ["jest"]
    assert categories("He would hurt him, he said, joking.") == ["jest"]


def test_terminator_closes_the_scope() -> None:
    assert categories("He denies drinking but will hurt him.") == []


def test_pseudo_cue_blocks_the_cue_it_contains() -> None:
    assert categories("There is no doubt he will hurt him.") == []
    assert categories("There is no hurt.") == ["negated"]


def test_non_cancelling_modifier_is_recorded_but_criterion_still_fires() -> None:
    findings = [f for f in find("If she leaves he will hurt her.") if f.criterion == "harm"]
    assert [m.category for m in findings[0].modifiers] == ["conditional"]
    assert not findings[0].cancelled
    assert findings[0].modifiers[0].describe() == 'conditional: "If"'


def test_allowed_types_limit_what_a_cue_modifies() -> None:
    text = "Years ago he said he would hurt his brother."
    assert categories(text, "harm") == []
    assert categories(text, "target") == ["historical"]


def test_requirement_scopes() -> None:
    assert live("He will hurt his brother.") == {"harm", "target"}
    assert live("He will hurt him. His brother called.") == {"harm"}
    assert live("He will hurt him. Later. He has a gun.") == {"harm", "weapon"}
    assert live("He has a gun.") == set()
    assert live("He will hurt him. It is tonight.") == {"harm", "soon"}
    assert live("He will hurt him. Nothing. Nothing. It is tonight.") == {"harm"}


def test_unsupported_findings_are_kept_and_explained() -> None:
    gun = [f for f in find("He has a gun.") if f.criterion == "weapon"]
    assert len(gun) == 1 and gun[0].cancelled
    assert gun[0].modifiers[0].category == "requires"
    assert "no harm in the vignette" in gun[0].modifiers[0].describe()
    # explain=False does not search where the requirement fails
    assert [f for f in find("He has a gun.", explain=False) if f.criterion == "weapon"] == []


def test_cancelled_requirement_does_not_support() -> None:
    assert live("He denies he would hurt his brother.") == set()


def test_given_facts_satisfy_or_block_requirements() -> None:
    assert "weapon" in live("He has a gun.", given={"harm": True})
    assert "target" not in live("He will hurt his brother.", given={"harm": False})


def test_unicode_text_whose_lowercase_changes_length() -> None:
    text = "İstanbul. He will hurt his brother."
    findings = find(text)
    assert {f.criterion for f in findings} == {"harm", "target"}
    assert all(text[f.start : f.end] == f.text for f in findings)


def test_compile_rubric_is_cached() -> None:
    assert compile_rubric(RUBRIC) is compile_rubric(RUBRIC)
    assert isinstance(compile_rubric(RUBRIC), Matcher)


# ---------------------------------------------------------------- properties
DTP = load_rubric("duty_to_protect")
VOCAB = [
    *sorted({w for c in DTP.criteria for t in (*c.fires, *c.silent) for w in t.split()}),
    "İ",
    "\n\n",
    ".",
    ",",
    '"',
    "Ms.",
    "K.",
]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(VOCAB), min_size=1, max_size=60), st.booleans())
def test_evidence_text_is_the_span_it_claims(words: list[str], explain: bool) -> None:
    text = " ".join(words)
    for f in compile_rubric(DTP).find(text, explain=explain):
        assert text[f.start : f.end] == f.text
        assert f.text in f.sentence
        for m in f.modifiers:
            if m.start >= 0:
                assert text[m.start : m.end] == m.cue


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(VOCAB), min_size=1, max_size=60), st.randoms(use_true_random=False))
def test_results_do_not_depend_on_rule_order(words: list[str], rnd: random.Random) -> None:
    text = " ".join(words)
    context, criteria = list(DTP.context), list(DTP.criteria)
    rnd.shuffle(context)
    rnd.shuffle(criteria)
    shuffled = dataclasses.replace(DTP, context=tuple(context), criteria=tuple(criteria))

    def key(findings):
        return sorted(
            (
                f.criterion,
                f.start,
                f.end,
                tuple(sorted((m.category, m.start, m.cancels) for m in f.modifiers)),
            )
            for f in findings
        )

    assert key(Matcher(DTP).find(text)) == key(Matcher(shuffled).find(text))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.sampled_from(VOCAB), min_size=1, max_size=60))
def test_explain_does_not_change_what_fires(words: list[str]) -> None:
    text = " ".join(words)
    matcher = compile_rubric(DTP)

    def fired(explain: bool) -> set[str]:
        return {f.criterion for f in matcher.find(text, explain=explain) if not f.cancelled}

    assert fired(True) == fired(False)


def cue(cue_id: str, category: str, direction: str, *literal: str) -> dict:
    return {"id": cue_id, "category": category, "direction": direction, "literal": list(literal)}


def modifier_categories(context: list[dict], match: list[str], cancel_on=()):
    """A one-criterion rubric's matcher, returning the modifier categories found in a text."""
    rubric = parse_rubric(
        {
            "rubric": "mini",
            "version": "1",
            "title": "Mini",
            "context": context,
            "criteria": [
                {
                    "id": "target",
                    "label": "T",
                    "description": "x",
                    "match": match,
                    "cancel_on": list(cancel_on),
                    "examples": {"fires": ["x"], "silent": ["y"]},
                }
            ],
            "actions": [{"id": "a", "label": "A", "explanation": "x", "appropriate": True}],
            "rules": [
                {
                    "id": "d",
                    "default": True,
                    "duty_type": "not_triggered",
                    "action": "a",
                    "explanation": "x",
                }
            ],
        }
    )
    matcher = Matcher(rubric)
    return lambda text: [m.category for f in matcher.find(text) for m in f.modifiers]


def test_a_cue_that_shares_words_with_a_target_governs_the_rest_of_it() -> None:
    cats = modifier_categories(
        [
            cue("neg", "negated", "forward", "no thoughts", "no"),
            cue("against", "other_experiencer", "backward", "threatened her"),
        ],
        [
            "\\bthoughts of hurting\\b",
            "\\bowns (?:\\w+ ){0,2}weapons\\b",
            "\\bthreatened her\\b",
        ],
    )
    assert cats("He has no thoughts of hurting anyone.") == ["negated"]  # cue starts earlier
    assert cats("He owns no weapons.") == ["negated"]  # cue inside the target
    assert cats("He owns two weapons.") == []
    # a cue that is the target's own wording does not modify it
    assert cats("He threatened her.") == []


def test_a_longer_cue_phrase_does_not_hide_a_shorter_one_from_another_rule() -> None:
    cats = modifier_categories(
        [
            cue("cond", "conditional", "forward", "if"),
            cue("cond_after", "hypothetical", "backward", "if she"),
            cue("pseudo", "pseudo", "pseudo", "if only"),
        ],
        ["\\bhurt\\b"],
    )
    assert cats("If she leaves he will hurt her.") == ["conditional"]  # forward "if" survives
    assert cats("He will hurt her if she leaves.") == ["hypothetical"]
    assert cats("If only he would not hurt her.") == []  # the pseudo cue still hides "if"
