"""Frozen reference for :mod:`casekit.matching` (tests only; do not optimise).

A verbatim copy of the straightforward matcher as of commit 11774af ("Matcher: lower-cased
haystack, trie-factored alternations, requirement-gated search for bulk scoring"), together
with the compile-time helpers it used from :mod:`casekit.rules` (``expand_terms``,
``factor_alternatives``, ``literal_pattern``), so that later changes to either module cannot
silently change what this reference computes. ``tests/test_matching_equivalence.py`` checks
that the optimised :class:`casekit.matching.Matcher` returns exactly the same findings.

Every criterion pattern is searched with ``finditer`` over the whole lower-cased text (or,
for ``explain=False``, over the sentences where its requirements hold), every cue rule with
``finditer`` too, and ConText scopes are computed per finding.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from casekit.model import Finding, Modifier
from casekit.rules import Criterion, CueRule, Rubric

__all__ = ["ReferenceMatcher", "sentence_spans"]

REQUIRES = "requires"

# A sentence ends at . ! ? (plus closing quotes/brackets) followed by whitespace, or at a
# blank line. Abbreviations and initials ("Ms. K.", "Dr.", "e.g.") are not ends.
_BOUNDARY = re.compile(r"[.!?][\"'\u201d\u2019)\]]*\s+|\n[ \t]*\n\s*")
_ABBREV = re.compile(
    r"(?:\b(?:mr|mrs|ms|dr|prof|st|jr|sr|vs|etc|approx|no|e\.g|i\.e|a\.m|p\.m)|\b[A-Z])\.$",
    re.IGNORECASE,
)
_WORD = re.compile(r"\S+")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of the sentences of ``text`` (trailing whitespace excluded).

    >>> t = 'Ms. K. called. She said "he will hurt me." Then she hung up.'
    >>> [t[s:e] for s, e in sentence_spans(t)]
    ['Ms. K. called.', 'She said "he will hurt me."', 'Then she hung up.']
    """
    spans: list[tuple[int, int]] = []
    start = 0
    for m in _BOUNDARY.finditer(text):
        if text[m.start()] == "." and _ABBREV.search(text, max(0, m.start() - 6), m.start() + 1):
            continue
        end = m.end()
        # keep closing punctuation, drop the whitespace
        stripped = end - (len(m.group()) - len(m.group().rstrip()))
        if text[start:stripped].strip():
            spans.append((start, stripped))
        start = end
    if text[start:].strip():
        spans.append((start, len(text.rstrip())))
    return spans


@dataclass(frozen=True, slots=True)
class _Cue:
    rule: CueRule
    start: int
    end: int
    text: str


@dataclass(frozen=True, slots=True)
class _Target:
    criterion: Criterion
    regex: re.Pattern[str]
    cancel_on: frozenset[str]


def _cue_priority(rule: CueRule) -> tuple[int, int, str]:
    # Pseudo cues must win over the shorter cue they contain ("no longer" over "no"); among
    # the rest, longer patterns first. Sorting on content, not file order, keeps the result
    # independent of the order rules are written in.
    return (0 if rule.direction == "pseudo" else 1, -len(rule.pattern), rule.id)


def _alternation(patterns: Sequence[str]) -> str:
    return "|".join(f"(?:{p})" for p in sorted(set(patterns), key=lambda p: (-len(p), p)))


class ReferenceMatcher:
    """A rubric compiled for matching. Build once (see :func:`compile_rubric`), reuse."""

    def __init__(self, rubric: Rubric) -> None:
        self.rubric = rubric
        ordered = _topological(rubric.criteria)
        self._alternations = [_alternation([_expand(rubric, p) for p in c.match]) for c in ordered]
        self.targets = tuple(
            _Target(c, re.compile(alt), frozenset(c.cancel_on))
            for c, alt in zip(ordered, self._alternations, strict=True)
        )
        # Literal cues share one alternation without groups; the matched words look up their
        # rules in a dict. Regex cues each get their own pattern. Both keep the C matcher's
        # fast first-character skip, which named groups and IGNORECASE would defeat.
        rules = sorted(rubric.context, key=_cue_priority)
        self.literal_rules: dict[str, list[CueRule]] = {}
        for rule in rules:
            for lit in rule.literal:
                self.literal_rules.setdefault(_norm(lit), []).append(rule)
        self.literal_rules = _with_prefix_rules(self.literal_rules)
        self.literal_regex = (
            re.compile(literal_pattern(list(self.literal_rules))) if self.literal_rules else None
        )
        self.pattern_rules = tuple(
            (rule, re.compile(_expand(rubric, rule.pattern))) for rule in rules if not rule.literal
        )

    def _ignorecase(self) -> ReferenceMatcher:
        """A twin compiled with IGNORECASE, for the rare text whose lower() changes length."""
        twin = object.__new__(ReferenceMatcher)
        twin.rubric = self.rubric
        twin.targets = tuple(
            _Target(t.criterion, re.compile(alt, re.IGNORECASE), t.cancel_on)
            for t, alt in zip(self.targets, self._alternations, strict=True)
        )
        twin.literal_rules = self.literal_rules
        twin.literal_regex = (
            re.compile(self.literal_regex.pattern, re.IGNORECASE) if self.literal_regex else None
        )
        twin.pattern_rules = tuple(
            (rule, re.compile(rx.pattern, re.IGNORECASE)) for rule, rx in self.pattern_rules
        )
        return twin

    # ------------------------------------------------------------------ public
    def find(
        self, text: str, given: Mapping[str, bool] | None = None, *, explain: bool = True
    ) -> list[Finding]:
        """Findings in ``text``, in criterion (rubric) order then text order.

        ``given`` maps criterion ids decided by structured facts to their value; it only
        affects whether requirements on those criteria are met. With ``explain=True`` every
        match of every criterion is reported, including those whose requirement fails (they
        carry a cancelling ``requires`` modifier: "gun", but no threat in view). With
        ``explain=False`` a criterion that requires another is only searched where that
        requirement holds: the fired set is identical, the work is smaller, and the
        unsupported matches are not listed. Bulk scoring uses it.
        """
        given = given or {}
        haystack = text.lower()
        if len(haystack) != len(text):  # e.g. "İ" lower-cases to two characters
            return self._ignorecase()._find(text, text, given, explain)
        return self._find(text, haystack, given, explain)

    def _find(
        self, text: str, haystack: str, given: Mapping[str, bool], explain: bool
    ) -> list[Finding]:
        spans = sentence_spans(text) or [(0, len(text))]
        starts = [s for s, _ in spans]
        cues = self._cues(text, haystack)
        cues_by_sentence: dict[int, list[_Cue]] = {}
        for cue in cues:
            cues_by_sentence.setdefault(_index(starts, cue.start), []).append(cue)

        by_criterion: dict[str, list[tuple[int, Finding]]] = {}
        for target in self.targets:
            allowed = _allowed_sentences(target.criterion, len(spans), by_criterion, given)
            if explain or allowed is None:
                windows = [(0, len(haystack))]
            else:
                windows = _windows(spans, allowed)
            found: list[tuple[int, Finding]] = []
            for w_start, w_end in windows:
                for m in target.regex.finditer(haystack, w_start, w_end):
                    if m.end() == m.start():
                        continue
                    si = _index(starts, m.start())
                    s_start, s_end = spans[si]
                    mods = self._modifiers(
                        text,
                        target,
                        m.start(),
                        m.end(),
                        s_start,
                        s_end,
                        cues_by_sentence.get(si, []),
                    )
                    if allowed is not None and si not in allowed:
                        mods.extend(_unmet(target.criterion, si, len(spans), by_criterion, given))
                    found.append(
                        (
                            si,
                            Finding(
                                criterion=target.criterion.id,
                                text=text[m.start() : m.end()],
                                start=m.start(),
                                end=m.end(),
                                sentence=text[s_start:s_end],
                                modifiers=tuple(mods),
                            ),
                        )
                    )
            by_criterion[target.criterion.id] = found
        return [f for c in self.rubric.criteria for _, f in by_criterion.get(c.id, [])]

    # ----------------------------------------------------------------- helpers
    def _cues(self, text: str, haystack: str) -> list[_Cue]:
        cues: list[_Cue] = []
        if self.literal_regex is not None:
            for m in self.literal_regex.finditer(haystack):
                for rule in self.literal_rules[_norm(m.group())]:
                    cues.append(_Cue(rule, m.start(), m.end(), text[m.start() : m.end()]))
        for rule, rx in self.pattern_rules:
            for m in rx.finditer(haystack):
                if m.end() > m.start():
                    cues.append(_Cue(rule, m.start(), m.end(), text[m.start() : m.end()]))
        # A pseudo cue ("no doubt") hides the real cues it overlaps ("no").
        pseudo = [c for c in cues if c.rule.direction == "pseudo"]
        if pseudo:
            cues = [
                c
                for c in cues
                if c.rule.direction != "pseudo"
                and not any(p.start < c.end and c.start < p.end for p in pseudo)
            ]
        cues.sort(key=lambda c: (c.start, c.end, c.rule.id))
        return cues

    def _modifiers(
        self,
        text: str,
        target: _Target,
        t_start: int,
        t_end: int,
        s_start: int,
        s_end: int,
        cues: list[_Cue],
    ) -> list[Modifier]:
        mods: list[Modifier] = []
        cid = target.criterion.id
        for cue in cues:
            rule = cue.rule
            if rule.direction == "terminate":
                continue
            if rule.allowed_types and cid not in rule.allowed_types:
                continue
            if cue.start < t_end and t_start < cue.end:
                # A cue that shares words with a target still governs the words of the
                # target that follow it ("no thoughts of harming", "owns no weapons"); one
                # that starts where the target starts, or reaches its end, is the target's
                # own wording.
                applies = (
                    rule.direction in ("forward", "bidirectional")
                    and cue.start != t_start
                    and cue.end < t_end
                )
            else:
                applies = _in_scope(text, cue, t_start, t_end, s_start, s_end, cues)
            if applies:
                mods.append(
                    Modifier(
                        category=rule.category,
                        cue=cue.text,
                        start=cue.start,
                        end=cue.end,
                        cancels=rule.category in target.cancel_on,
                    )
                )
        return mods


def _live_sentences(findings: list[tuple[int, Finding]]) -> set[int]:
    return {si for si, f in findings if not f.cancelled}


def _allowed_sentences(
    criterion: Criterion,
    n_sentences: int,
    by_criterion: Mapping[str, list[tuple[int, Finding]]],
    given: Mapping[str, bool],
) -> set[int] | None:
    """Sentences where every requirement of ``criterion`` holds; ``None`` if it has none."""
    if not criterion.requires:
        return None
    allowed = set(range(n_sentences))
    for req in criterion.requires:
        if req.criterion in given:
            ok = set(range(n_sentences)) if given[req.criterion] else set()
        else:
            live = _live_sentences(by_criterion.get(req.criterion, []))
            if req.scope == "sentence":
                ok = live
            elif req.scope == "adjacent":
                ok = {j for i in live for j in (i - 1, i, i + 1) if 0 <= j < n_sentences}
            else:
                ok = set(range(n_sentences)) if live else set()
        allowed &= ok
    return allowed


def _unmet(
    criterion: Criterion,
    sentence: int,
    n_sentences: int,
    by_criterion: Mapping[str, list[tuple[int, Finding]]],
    given: Mapping[str, bool],
) -> list[Modifier]:
    """``requires`` modifiers naming each requirement that fails at ``sentence``."""
    mods = []
    for req in criterion.requires:
        single = Criterion(id=criterion.id, label="", description="", match=(), requires=(req,))
        allowed = _allowed_sentences(single, n_sentences, by_criterion, given) or set()
        if sentence not in allowed:
            mods.append(
                Modifier(
                    category=REQUIRES,
                    cue=f"no {req.criterion} {_SCOPE_WORDS[req.scope]}",
                    start=-1,
                    end=-1,
                    cancels=True,
                )
            )
    return mods


_SCOPE_WORDS = {
    "sentence": "in the same sentence",
    "adjacent": "in or next to this sentence",
    "vignette": "in the vignette",
}


def _windows(spans: Sequence[tuple[int, int]], allowed: set[int]) -> list[tuple[int, int]]:
    """Character ranges covering the allowed sentences, consecutive ones merged."""
    windows: list[tuple[int, int]] = []
    for i in sorted(allowed):
        start, end = spans[i]
        if windows and i - 1 in allowed:
            windows[-1] = (windows[-1][0], end)
        else:
            windows.append((start, end))
    return windows


def _norm(phrase: str) -> str:
    return " ".join(phrase.lower().split())


def _with_prefix_rules(literal_rules: dict[str, list[CueRule]]) -> dict[str, list[CueRule]]:
    """Give each literal the rules of the shorter literals it begins with.

    The literal alternation matches the longest phrase at a position, so "if she" (one
    rule) would hide "if" (another rule). A phrase therefore also carries its word-prefixes'
    rules, one per category not already present; pseudo cues still remove whatever they
    overlap ("no doubt" hides the negation of "no").
    """
    merged: dict[str, list[CueRule]] = {}
    for key, rules in literal_rules.items():
        out = list(rules)
        categories = {r.category for r in rules}
        words = key.split(" ")
        for k in range(1, len(words)):
            for rule in literal_rules.get(" ".join(words[:k]), []):
                if rule.category not in categories:
                    out.append(rule)
                    categories.add(rule.category)
        merged[key] = out
    return merged


def _index(starts: list[int], pos: int) -> int:
    return max(0, bisect.bisect_right(starts, pos) - 1)


def _in_scope(
    text: str,
    cue: _Cue,
    t_start: int,
    t_end: int,
    s_start: int,
    s_end: int,
    cues: list[_Cue],
) -> bool:
    rule = cue.rule
    # A rule's own terminated_by replaces the default (terminating cues), so a disavowal
    # ("..., but I'd never do it") can reach back across the "but" that closes other scopes.
    stop_categories = rule.terminated_by or ("terminate",)
    stops = [c for c in cues if c is not cue and c.rule.category in stop_categories]
    if rule.direction in ("forward", "bidirectional") and t_start >= cue.end:
        end = s_end
        for c in stops:
            if cue.end <= c.start < end:
                end = c.start
        limit = _forward_limit(text, cue.end, end, rule.max_scope)
        if t_start < limit:
            return True
    if rule.direction in ("backward", "bidirectional") and t_end <= cue.start:
        start = s_start
        for c in stops:
            if start <= c.end <= cue.start:
                start = c.end
        limit = _backward_limit(text, start, cue.start, rule.max_scope)
        if t_end > limit:
            return True
    return False


def _forward_limit(text: str, pos: int, end: int, n: int) -> int:
    for i, m in enumerate(_WORD.finditer(text, pos, end)):
        if i + 1 == n:
            return m.end()
    return end


def _backward_limit(text: str, start: int, pos: int, n: int) -> int:
    words = [m.start() for m in _WORD.finditer(text, start, pos)]
    return words[-n] if len(words) >= n else start


def _topological(criteria: Sequence[Criterion]) -> list[Criterion]:
    """Criteria ordered so that each comes after the criteria it requires."""
    by_id = {c.id: c for c in criteria}
    done: dict[str, Criterion] = {}

    def visit(c: Criterion) -> None:
        if c.id in done:
            return
        for req in c.requires:
            if req.criterion in by_id:
                visit(by_id[req.criterion])
        done[c.id] = c

    for c in sorted(criteria, key=lambda c: c.id):
        visit(c)
    return list(done.values())


# --------------------------------------------------------------------------- compile helpers
# Verbatim copies of casekit.rules.expand_terms / factor_alternatives / literal_pattern as of
# the same commit. Alternation order decides which alternative Python's regex engine picks,
# so these are part of the reference semantics.

_TERM_REF = re.compile(r"\{([a-z][a-z0-9_]*)\}")


def _expand(rubric: Rubric, pattern: str) -> str:
    return expand_terms(pattern, dict(rubric.terms))


def expand_terms(pattern: str, terms: Mapping[str, Sequence[str]]) -> str:
    """Replace ``{name}`` references with the alternation of that term list.

    The alternation is factored on shared leading letters (a trie: ``k(?:ill|nife)``), which
    lets Python's matcher reject most positions after one character instead of trying
    every alternative; unknown names raise KeyError.
    """

    def sub(m: re.Match[str]) -> str:
        return "(?:" + factor_alternatives(terms[m.group(1)]) + ")"

    # Terms may use other terms; a few passes settle any sensible nesting.
    for _ in range(4):
        expanded = _TERM_REF.sub(sub, pattern)
        if expanded == pattern:
            break
        pattern = expanded
    return pattern


_PLAIN = frozenset("abcdefghijklmnopqrstuvwxyz0123456789 '\u2019,-_")


def _has_top_level_bar(alt: str) -> bool:
    depth, escaped = 0, False
    for ch in alt:
        if escaped:
            escaped = False
        elif ch == "\\":
            escaped = True
        elif ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        elif ch == "|" and depth == 0:
            return True
    return False


def factor_alternatives(alternatives: Iterable[str]) -> str:
    """One regex alternation of ``alternatives`` with shared literal prefixes factored out.

    >>> factor_alternatives(["kill", "kick", "gun"])
    'g(?:u(?:n))|k(?:i(?:c(?:k)|l(?:l)))'
    """
    groups: dict[str, list[str]] = {}
    rest: list[str] = []
    for alt in dict.fromkeys(alternatives):
        head_ok = alt and alt[0] in _PLAIN and (len(alt) == 1 or alt[1] not in "?*+{")
        if head_ok and not _has_top_level_bar(alt):
            groups.setdefault(alt[0], []).append(alt[1:])
        else:
            rest.append(alt)
    parts = []
    for head, tails in sorted(groups.items()):
        optional = "" in tails
        nonempty = [t for t in tails if t]
        body = re.escape(head)
        if nonempty:
            body += "(?:" + factor_alternatives(nonempty) + ")" + ("?" if optional else "")
        parts.append(body)
    parts.extend(f"(?:{r})" for r in sorted(rest, key=lambda a: (-len(a), a)))
    return "|".join(parts)


def literal_pattern(literals: Sequence[str]) -> str:
    """A word-bounded regex for a list of literal phrases, factored as a trie.

    Spaces in a phrase match any run of whitespace, so cues survive line wrapping.
    """
    trie: dict[str, Any] = {}
    for phrase in literals:
        node = trie
        for ch in " ".join(phrase.lower().split()):
            node = node.setdefault(ch, {})
        node[""] = {}

    def build(node: dict[str, Any]) -> str:
        alts = [
            (r"\s+" if ch == " " else re.escape(ch)) + build(child)
            for ch, child in sorted(node.items())
            if ch
        ]
        if not alts:
            return ""
        body = alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"
        return f"(?:{body})?" if "" in node else body

    return r"\b(?:" + build(trie) + r")\b"
