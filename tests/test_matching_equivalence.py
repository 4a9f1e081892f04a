"""The optimised :class:`casekit.matching.Matcher` finds exactly what the frozen reference finds.

``tests/reference_matcher.py`` is the straightforward matcher (every pattern scanned with
``finditer``); the production matcher may take shortcuts (one trigger scan, anchored matches,
cached compilation) but must return identical findings: criterion, span, text, sentence and
every modifier, cancelling or not, in the same order, for ``explain`` on and off and with or
without structured ``given`` facts. The rubrics are read from ``data/rubrics/`` at test time,
so a tuned pattern is checked as soon as it lands.
"""

from __future__ import annotations

import random
import re
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from casekit.matching import Matcher, compile_rubric, sentence_spans
from casekit.model import Finding
from casekit.rules import Rubric, load_rubrics, parse_rubric

sys.path.insert(0, str(Path(__file__).resolve().parent))
from reference_matcher import ReferenceMatcher
from reference_matcher import sentence_spans as reference_sentence_spans

ROOT = Path(__file__).resolve().parents[1]
RUBRICS = load_rubrics()
REFERENCES = {r.id: ReferenceMatcher(r) for r in RUBRICS}


def _givens(rubric: Rubric) -> list[Mapping[str, bool] | None]:
    """No facts, plus each required criterion given as true and as false."""
    required = sorted({req.criterion for c in rubric.criteria for req in c.requires})
    return [None, *({cid: value} for cid in required for value in (True, False))]


GIVENS = {r.id: _givens(r) for r in RUBRICS}


def _diff(expected: list[Finding], got: list[Finding]) -> str:
    lines = []
    for i in range(max(len(expected), len(got))):
        e = expected[i] if i < len(expected) else None
        g = got[i] if i < len(got) else None
        if e != g:
            lines.append(f"  [{i}] expected {e!r}\n       got      {g!r}")
    return "\n".join(lines[:5])


def check_same(rubric: Rubric, text: str) -> int:
    """Assert equal findings for every explain/given combination; return the number of runs."""
    ref = REFERENCES[rubric.id]
    fast = compile_rubric(rubric)
    runs = 0
    for facts in GIVENS[rubric.id]:
        for explain in (True, False):
            expected = ref.find(text, facts, explain=explain)
            got = fast.find(text, facts, explain=explain)
            assert got == expected, (
                f"rubric {rubric.id!r}, explain={explain}, given={facts}, text={text!r}:\n"
                + _diff(expected, got)
            )
            runs += 1
    return runs


def _rubric_examples() -> list[tuple[str, str]]:
    cases = []
    for rubric in RUBRICS:
        for c in rubric.criteria:
            cases += [(rubric.id, t) for t in (*c.fires, *c.silent)]
    return cases


def _bundled_vignette_texts() -> list[str]:
    texts = []
    for path in sorted((ROOT / "data" / "vignettes").glob("*.yaml")):
        records = yaml.safe_load(path.read_text(encoding="utf-8")) or []
        texts += [r["text"] for r in records if isinstance(r, dict) and "text" in r]
    return texts


EXAMPLES = _rubric_examples()
VIGNETTES = _bundled_vignette_texts()
_BY_ID = {r.id: r for r in RUBRICS}


def _sentences() -> list[str]:
    out = [t[s:e] for t in VIGNETTES for s, e in reference_sentence_spans(t)]
    return out + [t for _, t in EXAMPLES]


def _recombinations(n: int, seed: int = 20261127) -> list[str]:
    rng = random.Random(seed)
    pool = _sentences()
    joins = [" ", " ", " ", "\n", "\n\n", "  "]
    texts = []
    for _ in range(n):
        parts = [rng.choice(pool) for _ in range(rng.randint(1, 25))]
        text = parts[0]
        for p in parts[1:]:
            text += rng.choice(joins) + p
        texts.append(text)
    return texts


RECOMBINED = _recombinations(300)


def test_corpora_are_not_empty() -> None:
    assert len(EXAMPLES) >= 100
    assert len(VIGNETTES) >= 50
    assert len(RECOMBINED) == 300


@pytest.mark.parametrize(("rubric_id", "text"), EXAMPLES, ids=lambda x: str(x)[:40])
def test_rubric_example_equivalence(rubric_id: str, text: str) -> None:
    check_same(_BY_ID[rubric_id], text)


def test_bundled_vignettes_equivalence() -> None:
    runs = sum(check_same(r, t) for r in RUBRICS for t in VIGNETTES)
    assert runs == len(VIGNETTES) * sum(2 * len(GIVENS[r.id]) for r in RUBRICS)


def test_recombined_vignettes_equivalence() -> None:
    for rubric in RUBRICS:
        for text in RECOMBINED:
            check_same(rubric, text)


SHORT_TEXTS = [
    "Dr. A left. Then Ms. K. called.",
    "Mr.X. Hi. e.g. this; i.e. that. No. 5 is here.",
    "He left.\n\nShe came.  \n\n  Then.",
    "Approx. 7 p.m. tonight. Calledxx. Abcdefg. abcdef. A. b.",
    "x.",
    ". . .",
    "\n\n",
]


def test_sentence_spans_equivalence() -> None:
    for text in [*VIGNETTES, *RECOMBINED[:100], *SHORT_TEXTS]:
        assert sentence_spans(text) == reference_sentence_spans(text)
        for cut in range(len(text) if len(text) < 80 else 0):
            assert sentence_spans(text[cut:]) == reference_sentence_spans(text[cut:])


def test_findings_are_not_trivial() -> None:
    # Guards the guard: the corpora exercise matches, cancellations and modifiers.
    ref = REFERENCES["duty_to_protect"]
    findings = [f for t in RECOMBINED[:50] for f in ref.find(t)]
    assert len({f.criterion for f in findings}) >= 6
    assert any(f.cancelled for f in findings)
    assert any(m.category == "requires" for f in findings for m in f.modifiers)
    assert any(not m.cancels for f in findings for m in f.modifiers)


# ----------------------------------------------------------------------------- property test


def _vocabulary() -> list[str]:
    """Words and phrases the rubrics react to, plus the words around them."""
    words: set[str] = set()
    plain = re.compile(r"^[a-z' -]+$")
    for rubric in RUBRICS:
        for _, alts in rubric.terms:
            words.update(a for a in alts if plain.match(a))
        for cue in rubric.context:
            words.update(cue.literal)
        for c in rubric.criteria:
            for t in (*c.fires, *c.silent):
                words.update(t.split())
    return sorted(words)


VOCAB = _vocabulary()
NOISE = [
    "İstanbul",
    "ÉCOLE",
    "straße",
    "Mr.",
    "Dr.",
    "Ms. K.",
    "e.g.",
    "3",
    "24",
    "’ll",
    "'d",
    "—",
    " - ",
    ";",
    ",",
    '"',
    "(",
    ")",
    "x",
    "zz",
    "kill9",
    "_gun",
    "gun_",
    "ex-",
]
SEPARATORS = [" ", " ", " ", " ", "  ", "\n", "\n\n", ". ", "! ", "? ", '." ', ", ", "\t"]

token = st.one_of(st.sampled_from(VOCAB), st.sampled_from(NOISE), st.text(max_size=3))
texts = st.lists(
    st.tuples(token, st.sampled_from(SEPARATORS), st.booleans()), min_size=0, max_size=60
).map(lambda parts: "".join((t.capitalize() if up else t) + sep for t, sep, up in parts))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=texts, rubric_index=st.integers(min_value=0, max_value=len(RUBRICS) - 1))
def test_random_text_equivalence(text: str, rubric_index: int) -> None:
    check_same(RUBRICS[rubric_index], text)


@settings(max_examples=200, deadline=None)
@given(text=texts)
def test_sentence_spans_property(text: str) -> None:
    assert sentence_spans(text) == reference_sentence_spans(text)


def _register(data: dict[str, Any]) -> Rubric:
    """Parse a test rubric (given one trivial action and rule) and register its reference."""
    rubric = parse_rubric(
        {
            "version": "0",
            "actions": [{"id": "a", "label": "A", "explanation": "e", "appropriate": True}],
            "rules": [
                {
                    "id": "r",
                    "default": True,
                    "duty_type": "not_triggered",
                    "action": "a",
                    "explanation": "e",
                },
            ],
            **data,
        }
    )
    REFERENCES[rubric.id] = ReferenceMatcher(rubric)
    GIVENS[rubric.id] = _givens(rubric)
    return rubric


# ------------------------------------------------------------------- generic, not hard-coded


def test_equivalence_holds_for_a_rubric_the_matcher_has_never_seen() -> None:
    # Patterns unlike the bundled ones: no leading \b, a leading wildcard, a lookbehind,
    # an optional first token, alternations of different shapes, and a requirement.
    data = {
        "rubric": "toy",
        "title": "Toy",
        "terms": {"pet": ["cats?", "dogs?", "hamsters?"]},
        "context": [
            {"id": "neg", "category": "negated", "direction": "forward", "literal": ["no", "not"]},
            {"id": "rx", "category": "historical", "direction": "backward", "pattern": r"ago\b"},
            {"id": "stop", "category": "terminate", "direction": "terminate", "literal": ["but"]},
        ],
        "criteria": [
            {
                "id": "pet",
                "label": "Pet",
                "description": "d",
                "match": [
                    r"\b{pet}\b",
                    r"(?<=my )(?:old )?{pet}",
                    r"\w+ly {pet}",
                    r"\b(?:\d\d? ?kg|bark|meow)\w*",
                ],
                "cancel_on": ["negated"],
                "examples": {"fires": ["my cat"], "silent": ["no cat"]},
            },
            {
                "id": "food",
                "label": "Food",
                "description": "d",
                "match": [r"(?:fresh )?(?:fish|meat)\b", r"[0-9]+ (?:cans|tins)", r"e?at\b"],
                "requires": [{"criterion": "pet", "scope": "sentence"}],
                "examples": {"fires": ["my cat eats fish"], "silent": ["fish"]},
            },
        ],
    }
    toy = _register(data)
    samples = [
        "My cat eats fresh fish. No dog ate 3 cans but my old hamster did. Years ago, fish.",
        "Suddenly cats ate meat; a cat at 12 tins. Heat, meat, eat.",
        "My 12 kg dog barks; meowing cats ate 3 cans of 4kg fish. Barking, 9kgs.",
        "",
        "cat",
        "İ my dogs eat fish",
    ]
    for text in samples + RECOMBINED[:20]:
        check_same(toy, text)
    assert any(f.criterion == "food" for f in compile_rubric(toy).find(samples[0]))
    # the digit-led branch is found by the wild search, the others by the trigger
    assert {"12 kg", "barks", "4kg"} <= {f.text for f in REFERENCES[toy.id].find(samples[2])}


def test_compile_rubric_is_cached_per_rubric_object() -> None:
    rubric = RUBRICS[0]
    assert compile_rubric(rubric) is compile_rubric(rubric)
    assert isinstance(compile_rubric(rubric), Matcher)


def test_equivalence_for_patterns_the_prefix_analysis_must_refuse_or_model() -> None:
    # Flags, backreferences, anchors, atomic groups, possessive and lazy repeats, leading
    # lookarounds, empty-matching alternatives, classes and ranges: each must either be
    # modelled exactly or searched plainly, never give different findings.
    patterns = [
        r"(?i:kill)s?",
        r"\b(\w)\1\w*",
        r"^\w+",
        r"\w+$",
        r"(?>ab|a)c",
        r"x++y",
        r"\b(?:go|went)\s+?home",
        r"(?=[a-z]{4})\w+ing\b",
        r"(?<![a-z])ran\b",
        r"[0-9]+ (?:kg|lb)s?",
        r"[d-f]og|e?at\b",
        r"(?:\s|,)+and\b",
        r"\b(?:q|z)?",
        r"\bno\b(?!\s+one)",
    ]
    data = {
        "rubric": "toy2",
        "title": "Toy 2",
        "context": [
            {"id": "neg", "category": "negated", "direction": "forward", "literal": ["not"]},
        ],
        "criteria": [
            {
                "id": f"c{i}",
                "label": f"C{i}",
                "description": "d",
                "match": [p],
                "cancel_on": ["negated"],
                "examples": {"fires": ["x"], "silent": ["y"]},
            }
            for i, p in enumerate(patterns)
        ],
    }
    toy = _register(data)
    samples = [
        "KILLS and kill. Aardvark  eel oops. He went home, and they go   home.",
        "abc ac xxxy xy. Walking ran, Iran ran. 12 kg 3 lbs dog fog eat heat.",
        "no one came; no. Not now , , and\nand",
        "",
        "zq z q",
    ]
    for text in samples + RECOMBINED[:10]:
        check_same(toy, text)
    found = {f.criterion for t in samples for f in REFERENCES[toy.id].find(t)}
    assert len(found) >= 10


def test_a_pattern_with_too_many_start_keys_keeps_shorter_keys() -> None:
    # 26 x 9 x 10 words after one of 3 determiners: more start keys than the trigger keeps,
    # so they are cut to shorter prefixes instead of leaving the pattern to a full scan.
    from casekit.matching import _MAX_KEYS, _prefix_keys

    words = [
        a + b + c + "x"
        for a in "abcdefghijklmnopqrstuvwxyz"
        for b in "aeiouywrs"
        for c in "bcdfghklmn"
    ]
    pattern = r"\b(?:the|his|her) (?:" + "|".join(words) + r")\b"
    assert 3 * len(words) > _MAX_KEYS
    keys = _prefix_keys(pattern)
    assert keys is not None and 0 < len(keys) <= _MAX_KEYS
    starts = [f"{d} {w}" for d in ("the", "his", "her") for w in words]
    assert all(any(m.startswith(key) for m in starts) for key, _ in keys)
    data = {
        "rubric": "many",
        "title": "Many keys",
        "criteria": [
            {
                "id": "w",
                "label": "W",
                "description": "d",
                "match": [pattern],
                "examples": {"fires": [f"his {words[5]}"], "silent": [f"this {words[5]}"]},
            },
        ],
    }
    many = _register(data)
    rng = random.Random(7)
    for _ in range(40):
        text = " ".join(
            rng.choice(["the", "his", "her", "this", "them", rng.choice(words), "ab", "."])
            for _ in range(30)
        )
        check_same(many, text)
    assert compile_rubric(many).find(f"Then his {words[-1]} left.")


def _same_on(rubric_id: str, criteria: Sequence[Sequence[str]], samples: list[str]) -> Rubric:
    """A toy rubric (criterion ``c<i>`` matches ``criteria[i]``), checked on ``samples``."""
    rubric = _register(
        {
            "rubric": rubric_id,
            "title": rubric_id,
            "criteria": [
                {
                    "id": f"c{i}",
                    "label": f"C{i}",
                    "description": "d",
                    "match": list(patterns),
                    "examples": {"fires": ["x"], "silent": ["y"]},
                }
                for i, patterns in enumerate(criteria)
            ],
        }
    )
    for text in samples + RECOMBINED[:10]:
        check_same(rubric, text)
    return rubric


def test_a_lookbehind_ending_in_a_non_word_character_gives_word_start_keys() -> None:
    # "(?<=ed )by" can only match where "by" starts a word, so the trigger may look for it
    # at word starts only; a lookbehind ending in a word character, or a negative one, or a
    # lookahead, proves nothing about what precedes.
    from casekit.matching import _prefix_keys

    assert _prefix_keys(r"(?<=ed |en )by\s+the") == frozenset({("by the", True)})
    assert _prefix_keys(r"(?:(?<='s )|(?<=\bis\s))gonna") == frozenset({("gonna", True)})
    assert _prefix_keys(r"(?<=[,;])\s*and") == frozenset({(" and", True), ("and", True)})
    assert _prefix_keys(r"(?<=\w)by") == frozenset({("by", False)})
    assert _prefix_keys(r"(?<=e)(?:'s|by)") == frozenset({("'s", False), ("by", False)})
    assert _prefix_keys(r"(?<!\w )by") == frozenset({("by", False)})
    assert _prefix_keys(r"(?=by)by") == frozenset({("by", False)})
    samples = [
        "Attacked by the man; bitten by the dog; stand by the door. Maybeby the way.",
        "He's gonna go. It is\tgonna rain. Isgonna. 's gonna. is gonna",
        "by the start. Taken\nby the tide. Rebuked by  the board.",
    ]
    patterns = [r"(?<=ed |en )by\s+the", r"(?:(?<='s )|(?<=\bis\s))gonna", r"(?<=e)by"]
    behind = _same_on("behind", [[p] for p in patterns], samples)
    found = {f.criterion for t in samples for f in REFERENCES[behind.id].find(t)}
    assert found == {"c0", "c1", "c2"}


def test_a_position_both_scans_report_tries_every_alternative_in_order() -> None:
    # "(?<!x)by the way" is keyed by the any-position scan, "\bby\b" by the word-start scan;
    # at " by the way" both report the same position, and the first alternative must win
    # there, whichever scan found it.
    texts = ["Said by the way. Stood by. Xby the way, maybe by then.", "by the way by the way"]
    both = _same_on("both_scans", [[r"(?<!x)by the way", r"\bby\b"]], texts)
    spans = [f.text for f in REFERENCES[both.id].find(texts[0])]
    assert spans[0] == "by the way" and "by" in spans


def test_an_optional_part_lets_the_key_grow_past_it() -> None:
    # "(?:a)?bout to" starts with "about to" or "bout to", never with a bare "a": keying it
    # on "a" would try it at every word that starts with one.
    from casekit.matching import _KEY_LEN, _prefix_keys

    assert _prefix_keys(r"\b(?:a)?bout(?:ta| to)\b") == frozenset(
        (key[:_KEY_LEN], True) for key in ("about to", "aboutta", "bout to", "boutta")
    )
    assert _prefix_keys(r"\bx(?:ab)?+c") == frozenset({("xc", True), ("xabc", True)})
    assert _prefix_keys(r"\bx(?:ab)*c") == frozenset({("xc", True), ("xab", True)})
    samples = ["About to go, bout to leave, aboutta, abouts to. xc xabc xababc xabab c"]
    patterns = [r"\b(?:a)?bout(?:ta| to)\b", r"\bx(?:ab)?c", r"\bx(?:ab)*c"]
    optional = _same_on("optional", [[p] for p in patterns], samples)
    assert {f.criterion for f in REFERENCES[optional.id].find(samples[0])} == {"c0", "c1", "c2"}


def test_a_search_tried_alternative_by_alternative_never_compiles_its_whole_alternation() -> None:
    # Compiling duty_to_protect's two largest alternations (85 KB and 135 KB) took about half
    # a second of every CLI run; a search with per-key alternatives never needs them.
    from casekit.io import read_vignettes
    from casekit.matching import Matcher

    rubric = next(r for r in RUBRICS if r.id == "duty_to_protect")
    fresh = Matcher(rubric)
    texts = [v.text.lower() for v in read_vignettes(ROOT / "data" / "vignettes")[:200]]
    for text in texts:
        fresh.find(text, explain=True)
        fresh.find(text, explain=False)
    lazy = [t for t in fresh.targets if t.search.alternatives]
    assert lazy and all(t.search._regex is None for t in lazy)
    # compiled when asked for, it finds what the reference matcher's alternation finds
    reference = {t.criterion.id: t.regex for t in REFERENCES[rubric.id].targets}
    for t in fresh.targets:
        for text in texts[:50]:
            want = [m.span() for m in reference[t.criterion.id].finditer(text)]
            assert [m.span() for m in t.regex.finditer(text)] == want, t.criterion.id


def test_the_matcher_reuses_the_patterns_compiled_when_the_rubric_was_checked() -> None:
    # Loading a rubric compiles every pattern to check it; the matcher used to compile them
    # all again (re's own cache holds 512, fewer than the bundled rubrics have).
    from casekit.matching import Matcher
    from casekit.rules import compiled_pattern

    rubric = next(r for r in RUBRICS if r.id == "duty_to_protect")
    before = compiled_pattern.cache_info().misses
    matcher = Matcher(rubric)
    singles = [alt.__self__ for t in matcher.targets for alt in t.search.alternatives]
    assert singles and compiled_pattern.cache_info().misses == before
    assert all(p is compiled_pattern(p.pattern) for p in singles)
