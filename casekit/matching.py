"""The text engine: compiled criterion patterns plus the ConText algorithm.

ConText (Harkema, Dowling, Thornblade & Chapman, *J Biomed Inform* 42:839-851, 2009) decides
whether a concept found in clinical text is negated, hypothetical, historical or
experienced by someone other than the patient, from *cue* phrases and their *scope*: a cue
reaches forward, backward or both, up to the end of its sentence, a terminating cue
("but", "however") or ``max_scope`` tokens. casekit applies it to criterion matches in a
vignette: "he **denies** any plan to hurt his brother" yields a ``threat_communicated``
finding on "plan to hurt" carrying a ``negated`` modifier, and the rubric says whether that
category cancels the criterion.

A criterion may also *require* another in the same sentence, a neighbouring one or anywhere
in the vignette (``serious_violence`` counts only where a threat is in view). A finding whose
requirement is unmet is kept, cancelled by a ``requires`` modifier, so a reader sees that
"gun" was noticed and why it did not count.

Nothing is dropped: every pattern match becomes a :class:`~casekit.model.Finding`, cancelled
or not.

How matching is kept fast
-------------------------
Python's ``re`` has no multi-pattern search, and a pattern that starts with ``\\b`` gets no
first-character skip: ``finditer`` tries it at every position of the text. Scanning a
vignette once per criterion and per cue rule that way was most of the cost of scoring. So
:class:`Matcher` reads each compiled pattern's parse tree and derives the literal text every
match must start with ("going to", "kill", "his ", with any run of whitespace, or of
digits, as one symbol). One trie-factored *trigger* regex finds all of those keys in a
single scan (two, for keys not at a word start), and ``match(text, pos, endpos)`` runs only
at the positions found, skipping positions inside the previous match: exactly ``finditer``'s
leftmost, non-overlapping result. Where a key tells which alternatives of a criterion can
start there, only those are tried, in order. The branches of a pattern that may start with
anything (``\\w+ is a dead man``) are searched with their own pruned regex, and only when a
literal they all contain occurs in the text. Patterns the analysis does not understand
(or Pythons without ``re._parser``) are searched plainly. ``tests/reference_matcher.py``
keeps the plain implementation; ``tests/test_matching_equivalence.py`` checks that both give
identical findings.
"""

from __future__ import annotations

import bisect
import functools
import importlib
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from casekit.model import Finding, Modifier
from casekit.rules import Criterion, CueRule, Rubric, compiled_pattern, literal_pattern

_sre: Any
_sre_parse: Any
try:  # CPython's regex parser, used read-only to derive literal prefixes
    _sre = importlib.import_module("re._constants")
    _sre_parse = importlib.import_module("re._parser")
except ImportError:  # pragma: no cover - other Pythons search every pattern plainly
    _sre = _sre_parse = None

__all__ = ["Matcher", "compile_rubric", "sentence_spans"]

REQUIRES = "requires"

# A sentence ends at . ! ? (plus closing quotes/brackets) followed by whitespace, or at a
# blank line. Abbreviations and initials ("Ms. K.", "Dr.", "e.g.") are not ends.
# Written so that the pattern starts with a character class: re then skips straight to the
# next . ! ? or newline instead of trying every position. Same matches as
# r"[.!?][\"'\u201d\u2019)\]]*\s+|\n[ \t]*\n\s*".
_BOUNDARY = re.compile(r"[.!?\n](?:(?<=[.!?])[\"'\u201d\u2019)\]]*\s+|(?<=\n)[ \t]*\n\s*)")
_ABBREV = re.compile(
    r"(?:\b(?:mr|mrs|ms|dr|prof|st|jr|sr|vs|etc|approx|no|e\.g|i\.e|a\.m|p\.m)|\b[A-Z])\.$",
    re.IGNORECASE,
)
_WORD = re.compile(r"\S+")
_WORD_CHAR = re.compile(r"\w")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Character spans of the sentences of ``text`` (trailing whitespace excluded).

    >>> t = 'Ms. K. called. She said "he will hurt me." Then she hung up.'
    >>> [t[s:e] for s, e in sentence_spans(t)]
    ['Ms. K. called.', 'She said "he will hurt me."', 'Then she hung up.']
    """
    spans: list[tuple[int, int]] = []
    start = 0
    for m in _BOUNDARY.finditer(text):
        dot = m.start()
        # An abbreviation is at most 6 characters after a word boundary: after 7 word
        # characters there is none, and the regex need not run.
        if (
            text[dot] == "."
            and not (dot >= 7 and text[dot - 7 : dot].isalnum())
            and _ABBREV.search(text, max(0, dot - 6), dot + 1)
        ):
            continue
        end = m.end()
        # keep closing punctuation, drop the whitespace
        stripped = end
        while stripped > dot and text[stripped - 1].isspace():
            stripped -= 1
        if start < stripped and not text[start:stripped].isspace():
            spans.append((start, stripped))
        start = end
    if text[start:].strip():
        spans.append((start, len(text.rstrip())))
    return spans


# --------------------------------------------------------------------------- pattern analysis
#
# A *key* is literal text every match of a pattern starts with, at most _KEY_LEN symbols, in
# the lower-cased alphabet of the haystack; _WS stands for any run of whitespace and _DIGIT
# for any run of digits (a literal digit included: the trigger only has to over-approximate).
# Each key
# carries whether the pattern asserts a word boundary before it (``\b`` then a word
# character), which lets the trigger look only at word starts.

_WS = " "
_KEY_LEN = 6
_MAX_KEYS = 5000
_MAX_CLASS = 24
_DIGIT = "0"
_RUNS = {_WS: r"\s+", _DIGIT: r"\d+"}
_WS_RUN = re.compile(r"\s+")
_DIGIT_RUN = re.compile(r"\d+")


def _symbol(ch: str) -> str:
    if ch.isspace():
        return _WS
    return _DIGIT if _DIGIT_RUN.match(ch) else ch


def _normal_key(key: str) -> str:
    """A key as the trigger matched it, in the symbols the dispatch tables use."""
    return _WS_RUN.sub(_WS, _DIGIT_RUN.sub(_DIGIT, key))


_Entry = tuple[str, bool, bool]  # (key so far, may still grow, word boundary before it)


class _Unsupported(Exception):
    """The pattern uses something the prefix analysis does not model."""


def _class_symbols(items: Sequence[tuple[Any, Any]]) -> set[str] | None:
    symbols: set[str] = set()
    for op, av in items:
        if op is _sre.LITERAL:
            symbols.add(chr(av))
        elif op is _sre.RANGE and av[1] - av[0] < _MAX_CLASS:
            symbols.update(chr(c) for c in range(av[0], av[1] + 1))
        elif op is _sre.CATEGORY and av in (_sre.CATEGORY_SPACE, _sre.CATEGORY_UNI_SPACE):
            symbols.add(_WS)
        elif op is _sre.CATEGORY and av in (_sre.CATEGORY_DIGIT, _sre.CATEGORY_UNI_DIGIT):
            symbols.add(_DIGIT)
        else:
            return None
    symbols = {_symbol(c) for c in symbols}
    return symbols if len(symbols) <= _MAX_CLASS else None


def _atom(op: Any, av: Any) -> set[_Entry] | None:
    """Keys of one parse-tree node; ``None`` when it may start with almost anything."""
    if op is _sre.LITERAL:
        ch = chr(av)
        return {(_symbol(ch), True, False)}
    if op is _sre.IN:
        symbols = _class_symbols(av)
        return None if symbols is None else {(c, True, False) for c in symbols}
    if op is _sre.AT:
        return {("", True, av is _sre.AT_BOUNDARY)}
    if op is _sre.ASSERT:
        # a lookbehind that ends in a non-word character puts what follows at a word start,
        # as \b does for a word character ("(?<=ed |en )by", "(?<='s )gonna")
        direction, sub = av
        return {("", True, direction < 0 and _ends_non_word(sub.data))}
    if op is _sre.ASSERT_NOT:
        return {("", True, False)}
    if op is _sre.SUBPATTERN:
        _group, add_flags, _del_flags, sub = av
        if add_flags & (re.IGNORECASE | re.LOCALE):
            raise _Unsupported
        return _sequence(sub.data)
    if op is _sre.ATOMIC_GROUP:
        return _sequence(av.data)
    if op is _sre.BRANCH:
        out: set[_Entry] = set()
        for alternative in av[1]:
            out |= _sequence(alternative.data)
        return out
    if op in (_sre.MAX_REPEAT, _sre.MIN_REPEAT, _sre.POSSESSIVE_REPEAT):
        low, high, sub = av
        inner = _sequence(sub.data)
        for run in _RUNS:  # \s+, [ \t]*, \d{2}: the symbol already stands for a run
            if inner == {(run, True, False)}:
                return {(run, True, False)} | ({("", True, False)} if low == 0 else set())
        if high == 1:  # "(?:a)?bout": what follows an optional part may extend its key
            return inner | ({("", True, False)} if low == 0 else set())
        # after one repetition the key stops growing: a shorter key is still a valid prefix
        out = {(key, False, boundary) for key, _, boundary in inner}
        if low == 0:
            out.add(("", True, False))
        return out
    return None


def _ends_non_word(data: Sequence[tuple[Any, Any]]) -> bool:
    """Whether every match of ``data`` ends with a character ``\\w`` does not match."""
    if not data:
        return False
    op, av = data[-1]
    if op is _sre.LITERAL:
        return not _WORD_CHAR.match(chr(av))
    if op is _sre.IN:
        return all(
            (kind is _sre.LITERAL and not _WORD_CHAR.match(chr(value)))
            or (kind is _sre.CATEGORY and value in (_sre.CATEGORY_SPACE, _sre.CATEGORY_UNI_SPACE))
            for kind, value in av
        )
    if op is _sre.SUBPATTERN:
        return _ends_non_word(av[3].data)
    if op is _sre.BRANCH:
        return all(_ends_non_word(alternative.data) for alternative in av[1])
    return False


def _sequence(data: Iterable[tuple[Any, Any]]) -> set[_Entry]:
    out: set[_Entry] = {("", True, False)}
    for op, av in data:
        if not any(grows for _, grows, _ in out):
            break
        item = _atom(op, av)
        new = {entry for entry in out if not entry[1]}
        for key, grows, boundary in out:
            if not grows:
                continue
            if item is None:
                new.add((key, False, boundary))
                continue
            for tail, tail_grows, tail_boundary in item:
                if tail[:1] in _RUNS and key[-1:] == tail[:1]:
                    tail = tail[1:]
                joined = key + tail
                starts = boundary or (not key and tail_boundary)
                if len(joined) >= _KEY_LEN:
                    new.add((joined[:_KEY_LEN], False, starts))
                else:
                    new.add((joined, tail_grows, starts))
        if len(new) > _MAX_KEYS:
            new = _shorten(new)
        out = new
    return out


def _shorten(entries: set[_Entry]) -> set[_Entry]:
    """Fewer, shorter keys: every match that starts with a key starts with its prefix too.

    Keys are cut to the longest length that leaves at most ``_MAX_KEYS`` of them; a cut key
    stops growing (what follows in the pattern follows the whole key, not the cut one).
    """
    for length in range(_KEY_LEN - 1, 0, -1):
        cut = {
            (key[:length], False, boundary) if len(key) >= length else (key, grows, boundary)
            for key, grows, boundary in entries
        }
        if len(cut) <= _MAX_KEYS:
            return cut
    raise _Unsupported


@functools.lru_cache(maxsize=4096)
def _prefix_keys(pattern: str) -> frozenset[tuple[str, bool]] | None:
    """``(key, word_start)`` pairs such that every match of ``pattern`` starts with a key.

    ``None`` when there are none to be had: the pattern may match the empty string, may
    start with a wildcard, or uses flags or constructs the analysis does not model.
    """
    if _sre_parse is None:
        return None
    try:
        tree = _sre_parse.parse(pattern)
        if tree.state.flags & (re.IGNORECASE | re.LOCALE) or tree.getwidth()[0] == 0:
            return None
        entries = _sequence(tree.data)
    except (_Unsupported, RecursionError, AttributeError, TypeError, ValueError):
        return None
    if any(not key for key, _, _ in entries):
        return None
    return frozenset((key, boundary) for key, _, boundary in entries)


@functools.lru_cache(maxsize=4096)
def _partial_keys(pattern: str) -> frozenset[tuple[str, bool]]:
    """The keys of the paths of ``pattern`` that do start with one (see :func:`_prune_keyed`)."""
    try:
        entries = _sequence(_sre_parse.parse(pattern).data)
    except (_Unsupported, RecursionError, AttributeError, TypeError, ValueError):
        return frozenset()
    return frozenset((key, boundary) for key, _, boundary in entries if key)


def _required_literals(data: Iterable[tuple[Any, Any]]) -> set[str] | None:
    """Literal strings one of which every match contains (the most selective set found)."""
    best: set[str] | None = None

    def consider(candidate: set[str] | None) -> None:
        nonlocal best
        if not candidate:
            return
        score = (min(map(len, candidate)), -len(candidate))
        if best is None or score > (min(map(len, best)), -len(best)):
            best = candidate

    run = ""
    for op, av in data:
        if op is _sre.LITERAL:
            run += chr(av)
            continue
        consider({run} if run else None)
        run = ""
        if op is _sre.SUBPATTERN and not av[1] & (re.IGNORECASE | re.LOCALE):
            consider(_required_literals(av[3].data))
        elif op is _sre.ATOMIC_GROUP:
            consider(_required_literals(av.data))
        elif op is _sre.BRANCH:
            options = [_required_literals(alt.data) for alt in av[1]]
            if all(options):
                consider(set().union(*options))  # type: ignore[arg-type]
        elif op in (_sre.MAX_REPEAT, _sre.MIN_REPEAT, _sre.POSSESSIVE_REPEAT) and av[0] >= 1:
            consider(_required_literals(av[2].data))
    consider({run} if run else None)
    return best


@functools.lru_cache(maxsize=1024)
def _literals_in(pattern: str) -> frozenset[str] | None:
    try:
        tree = _sre_parse.parse(pattern)
        if tree.state.flags & (re.IGNORECASE | re.LOCALE):
            return None
        found = _required_literals(tree.data)
    except (RecursionError, AttributeError, TypeError, ValueError):
        return None
    return frozenset(found) if found else None


def _trie(keys: Iterable[str]) -> str:
    """Keys as one regex; longer keys are tried first, so it finds the longest key present."""
    root: dict[str, Any] = {}
    for key in keys:
        node = root
        for ch in key:
            node = node.setdefault(ch, {})
        node[""] = {}

    def build(node: dict[str, Any]) -> str:
        alts = [
            _RUNS.get(ch, re.escape(ch)) + build(child) for ch, child in sorted(node.items()) if ch
        ]
        if "" in node:
            alts.append("")
        return alts[0] if len(alts) == 1 else "(?:" + "|".join(alts) + ")"

    return build(root)


_PLAIN, _TRIGGERED, _MIXED = 0, 1, 2

_MatchFn = Callable[[str, int, int], "re.Match[str] | None"]


class _Search:
    """How one compiled regex (a criterion's alternation, a cue rule) is searched.

    ``keys`` holds ``(key, word_start, alternative)``: the alternative (by position) that may
    match where the key occurs. ``alternatives`` are the alternatives compiled on their own;
    at a position where only some can match, trying those in order gives what the whole
    alternation gives (the first alternative that matches wins, and nothing follows it).
    """

    __slots__ = ("_regex", "_source", "alternatives", "keys", "literals", "mode", "wild")

    def __init__(
        self,
        regex: re.Pattern[str] | str,
        mode: int,
        keys: frozenset[tuple[str, bool, int]] = frozenset(),
        alternatives: tuple[_MatchFn, ...] = (),
        wild: re.Pattern[str] | None = None,
        literals: frozenset[str] | None = None,
    ) -> None:
        # A search tried alternative by alternative may never need its whole alternation
        # (compiling a large one takes a noticeable part of a second): it is then given as
        # source and compiled on first use.
        self._regex: re.Pattern[str] | None = None if isinstance(regex, str) else regex
        self._source = regex if isinstance(regex, str) else ""
        self.mode = mode
        self.keys = keys
        self.alternatives = alternatives
        self.wild = wild
        self.literals = literals

    @property
    def regex(self) -> re.Pattern[str]:
        """The whole alternation."""
        if self._regex is None:
            self._regex = re.compile(self._source)
        return self._regex

    @property
    def match(self) -> _MatchFn:
        return self.regex.match

    def finditer(
        self,
        haystack: str,
        candidates: list[int],
        tries: list[tuple[_MatchFn, ...] | None],
        start: int,
        end: int,
    ) -> list[re.Match[str]]:
        """``list(self.regex.finditer(haystack, start, end))``, from trigger candidates.

        ``tries[i]``, when given, lists the alternatives that may match at ``candidates[i]``.
        """
        if self.mode == _PLAIN:
            return list(self.regex.finditer(haystack, start, end))
        found: list[re.Match[str]] = []
        i = bisect.bisect_left(candidates, start) if start else 0
        n = len(candidates)
        if self.mode == _TRIGGERED:
            last = start
            while i < n:
                p = candidates[i]
                if p >= end:
                    break
                if p >= last:
                    alts = tries[i]
                    if alts is None:  # the whole alternation (only a search without singles)
                        m = self.match(haystack, p, end)
                    else:
                        for alt in alts:
                            m = alt(haystack, p, end)
                            if m is not None:
                                break
                    if m is not None:
                        found.append(m)
                        last = m.end()
                i += 1
            return found
        match = self.match
        wild = self.wild
        next_wild = end
        if wild is not None and (
            self.literals is None or any(lit in haystack for lit in self.literals)
        ):
            w = wild.search(haystack, start, end)
            next_wild = w.start() if w else end
        else:
            wild = None
        pos = start
        while True:
            while i < n and candidates[i] < pos:
                i += 1
            p = candidates[i] if i < n else end
            if wild is not None and next_wild < pos:
                w = wild.search(haystack, pos, end)
                next_wild = w.start() if w else end
            if next_wild < p:
                p = next_wild
            if p >= end:
                return found
            m = match(haystack, p, end)
            if m is None:
                pos = p + 1
            else:
                found.append(m)
                pos = m.end()


_Dispatch = dict[str, tuple[tuple[int, tuple[_MatchFn, ...] | None], ...]]


def _dispatch(
    entries: Mapping[str, set[tuple[int, int]]], searches: Sequence[_Search]
) -> _Dispatch:
    """For each key: every search whose own key is a prefix of it (that key matched too),
    with the alternatives to try there (``None``: the whole alternation)."""
    table: _Dispatch = {}
    for key in entries:
        found: dict[int, set[int]] = {}
        for n in range(1, len(key) + 1):
            for i, alt in entries.get(key[:n], ()):
                found.setdefault(i, set()).add(alt)
        table[key] = tuple(
            (
                i,
                None
                if not searches[i].alternatives
                else tuple(searches[i].alternatives[a] for a in sorted(alts)),
            )
            for i, alts in sorted(found.items())
        )
    return table


class _Trigger:
    """One scan of the text that finds every key of every triggered search."""

    __slots__ = (
        "anywhere",
        "anywhere_table",
        "at_word",
        "at_word_table",
        "merge",
        "ranks",
        "size",
    )

    def __init__(self, searches: Sequence[_Search]) -> None:
        at_word: dict[str, set[tuple[int, int]]] = {}
        anywhere: dict[str, set[tuple[int, int]]] = {}
        for i, search in enumerate(searches):
            for key, boundary, alt in search.keys:
                word_start = boundary and bool(re.match(r"\w", key[0]))
                (at_word if word_start else anywhere).setdefault(key, set()).add((i, alt))
        self.size = len(searches)
        both = {i for ids in at_word.values() for i, _ in ids} & {
            i for ids in anywhere.values() for i, _ in ids
        }
        # a search fed by both scans gets its positions merged into text order (and, where both
        # scans found a key at the same position, both keys' alternatives are tried there)
        self.merge = tuple(sorted(both))
        # each alternative's position, to try two keys' alternatives in the alternation's order
        self.ranks = {
            i: {alt: a for a, alt in enumerate(searches[i].alternatives)} for i in self.merge
        }
        # Word-start keys: scan " " + text for a non-word character followed by a key.
        self.at_word = re.compile(r"\W(?=(" + _trie(at_word) + "))") if at_word else None
        self.at_word_table = _dispatch(at_word, searches)
        # Other keys: a class of their first symbols (so re skips to them), then the rest of
        # the key in a lookahead: only the first symbol is consumed, so keys that overlap
        # are all found.
        heads: dict[str, list[str]] = {}
        for key in anywhere:
            heads.setdefault(key[0], []).append(key[1:])
        # A run symbol consumes one character of the run: the match may start at any of them.
        first = "".join(_RUNS.get(h, re.escape(h))[:2] for h in sorted(heads))
        parts = []
        for head, tails in sorted(heads.items()):
            if head in _RUNS:
                one = _RUNS[head][:2]
                parts.append(f"(?<={one})(?=({one}*" + _trie(tails) + "))")
            else:
                parts.append("(?<=" + re.escape(head) + ")(?=(" + _trie(tails) + "))")
        self.anywhere = re.compile(f"[{first}](?:{'|'.join(parts)})") if parts else None
        self.anywhere_table = _dispatch(anywhere, searches)

    def candidates(
        self, haystack: str
    ) -> tuple[list[list[int]], list[list[tuple[_MatchFn, ...] | None]]]:
        """Per search, the sorted positions where one of its keys occurs, and what to try."""
        found: list[list[int]] = [[] for _ in range(self.size)]
        tries: list[list[tuple[_MatchFn, ...] | None]] = [[] for _ in range(self.size)]
        if self.at_word is not None:
            table = self.at_word_table
            for m in self.at_word.finditer(" " + haystack):
                key = m.group(1)
                ids = table.get(key)
                if ids is None:
                    ids = table[_normal_key(key)]
                p = m.start()
                for i, alts in ids:
                    found[i].append(p)
                    tries[i].append(alts)
        if self.anywhere is not None:
            table = self.anywhere_table
            for m in self.anywhere.finditer(haystack):
                p = m.start()
                key = haystack[p : m.end(m.lastindex or 0)]
                ids = table.get(key)
                if ids is None:
                    ids = table[_normal_key(key)]
                for i, alts in ids:
                    found[i].append(p)
                    tries[i].append(alts)
            for i in self.merge:
                found[i], tries[i] = _merged(found[i], tries[i], self.ranks[i])
        return found, tries


def _merged(
    found: list[int],
    tries: list[tuple[_MatchFn, ...] | None],
    rank: Mapping[_MatchFn, int],
) -> tuple[list[int], list[tuple[_MatchFn, ...] | None]]:
    """Positions from the two scans in text order, each with what to try there.

    Where both scans found a key at one position, both keys' alternatives are tried there,
    in the alternation's order (``rank``): every alternative that can match there has one of
    the two keys, so the first of them that matches is what the whole alternation finds.
    """
    order = sorted(range(len(found)), key=found.__getitem__)
    positions: list[int] = []
    alternatives: list[tuple[_MatchFn, ...] | None] = []
    for k in order:
        p = found[k]
        if positions and positions[-1] == p:
            here = alternatives[-1]  # None exactly when the search has no singles
            if here is not None:
                more = tries[k] or ()
                alternatives[-1] = tuple(sorted({*here, *more}, key=rank.__getitem__))
        else:
            positions.append(p)
            alternatives.append(tries[k])
    return positions, alternatives


@functools.lru_cache(maxsize=64)
def _trigger(searches: tuple[_Search, ...]) -> _Trigger:
    return _Trigger(searches)


_WILD_OPS = ("GROUPREF", "GROUPREF_EXISTS", "GROUPREF_IGNORE")


def _children(op: Any, av: Any) -> list[Any]:
    """The sub-patterns directly inside one parse-tree node."""
    if op is _sre.SUBPATTERN:
        return [av[3]]
    if op is _sre.BRANCH:
        return list(av[1])
    if op in (_sre.MAX_REPEAT, _sre.MIN_REPEAT, _sre.POSSESSIVE_REPEAT):
        return [av[2]]
    if op in (_sre.ASSERT, _sre.ASSERT_NOT):
        return [av[1]]
    if op is _sre.ATOMIC_GROUP:
        return [av]
    return []


def _has_backreference(data: Iterable[tuple[Any, Any]]) -> bool:
    return any(
        str(op) in _WILD_OPS or any(_has_backreference(sub.data) for sub in _children(op, av))
        for op, av in data
    )


def _forget_widths(tree: Any) -> None:
    """Clear the parser's cached widths after an edit, so the compiler recomputes them."""
    tree.width = None
    for op, av in tree.data:
        for sub in _children(op, av):
            _forget_widths(sub)


def _prune_keyed(data: list[tuple[Any, Any]]) -> None:
    """Drop, in place, the leading branch alternatives every match of which starts with a
    key: the trigger finds those, so the wild search only needs the others."""
    for op, av in data:
        if op is _sre.AT or op is _sre.ASSERT or op is _sre.ASSERT_NOT:
            continue
        if op is _sre.SUBPATTERN and not av[1]:
            _prune_keyed(av[3].data)
        elif op is _sre.BRANCH:
            kept = []
            for alt in av[1]:
                if any(not key for key, _, _ in _sequence(alt.data)):
                    _prune_keyed(alt.data)
                    kept.append(alt)
            if kept:
                av[1][:] = kept
        return


def _wild_search(pattern: str) -> tuple[re.Pattern[str], frozenset[str] | None]:
    """A regex finding where ``pattern``'s unkeyed paths may match, and literals it needs."""
    regex = re.compile(pattern)
    try:
        tree = _sre_parse.parse(pattern)
        if _has_backreference(tree.data):
            return regex, _literals_in(pattern)
        _prune_keyed(tree.data)
        _forget_widths(tree)
        literals = _required_literals(tree.data)
        pruned = importlib.import_module("re._compiler").compile(tree, 0)
    except (_Unsupported, RecursionError, AttributeError, TypeError, ValueError, re.error):
        return regex, _literals_in(pattern)
    return pruned, frozenset(literals) if literals else None


@functools.lru_cache(maxsize=1024)
def _plan(alternatives: tuple[str, ...], flags: int = 0) -> _Search:
    """How to search the alternation of ``alternatives`` (in that order)."""
    source = "|".join(f"(?:{p})" for p in alternatives)
    if flags or not alternatives or _sre_parse is None:
        return _Search(re.compile(source, flags), _PLAIN)
    keyed: set[tuple[str, bool, int]] = set()
    wild = []
    for a, p in enumerate(alternatives):
        keys = _prefix_keys(p)
        if keys is None:
            if _min_width(p) == 0:
                return _Search(re.compile(source), _PLAIN)
            wild.append(p)
            # the wild search is pruned to the paths without a key; the others go here
            keyed |= {(key, boundary, a) for key, boundary in _partial_keys(p)}
        else:
            keyed |= {(key, boundary, a) for key, boundary in keys}
    if not keyed:
        return _Search(re.compile(source), _PLAIN)
    if not wild:
        # Alternatives can be tried one by one unless a backreference ties them to the
        # group numbering of the whole alternation.
        if any(_has_backreference(_sre_parse.parse(p).data) for p in alternatives):
            return _Search(re.compile(source), _TRIGGERED, frozenset(keyed))
        singles = tuple(compiled_pattern(p).match for p in alternatives)
        return _Search(source, _TRIGGERED, frozenset(keyed), singles)
    wild_regex, literals = _wild_search("|".join(f"(?:{p})" for p in wild))
    return _Search(re.compile(source), _MIXED, frozenset(keyed), (), wild_regex, literals)


def _min_width(pattern: str) -> int:
    try:
        return int(_sre_parse.parse(pattern).getwidth()[0])
    except Exception:  # unknown internals: treat as possibly empty
        return 0


# --------------------------------------------------------------------------- the matcher


class _Cue:
    __slots__ = ("end", "rule", "start", "text")

    def __init__(self, rule: CueRule, start: int, end: int, text: str) -> None:
        self.rule = rule
        self.start = start
        self.end = end
        self.text = text


class _Target:
    __slots__ = ("cancel_on", "criterion", "search")

    def __init__(self, criterion: Criterion, search: _Search, cancel_on: frozenset[str]) -> None:
        self.criterion = criterion
        self.search = search
        self.cancel_on = cancel_on

    @property
    def regex(self) -> re.Pattern[str]:
        """The criterion's whole alternation (compiled on first use)."""
        return self.search.regex


def _cue_priority(rule: CueRule) -> tuple[int, int, str]:
    # Pseudo cues must win over the shorter cue they contain ("no longer" over "no"); among
    # the rest, longer patterns first. Sorting on content, not file order, keeps the result
    # independent of the order rules are written in.
    return (0 if rule.direction == "pseudo" else 1, -len(rule.pattern), rule.id)


def _alternatives(patterns: Sequence[str]) -> list[str]:
    return sorted(set(patterns), key=lambda p: (-len(p), p))


class Matcher:
    """A rubric compiled for matching. Build once (see :func:`compile_rubric`), reuse."""

    def __init__(self, rubric: Rubric, *, _flags: int = 0) -> None:
        self.rubric = rubric
        self._flags = _flags
        ordered = _topological(rubric.criteria)
        self.targets = tuple(
            _Target(
                c,
                _plan(tuple(_alternatives([rubric.expand(p) for p in c.match])), _flags),
                frozenset(c.cancel_on),
            )
            for c in ordered
        )
        searches = [t.search for t in self.targets]
        # Literal cues share one alternation without groups; the matched words look up their
        # rules in a dict. Regex cues each get their own pattern.
        rules = sorted(rubric.context, key=_cue_priority)
        self.literal_rules: dict[str, list[CueRule]] = {}
        for rule in rules:
            for lit in rule.literal:
                self.literal_rules.setdefault(_norm(lit), []).append(rule)
        self.literal_rules = _with_prefix_rules(self.literal_rules)
        self.literal_search: _Search | None = None
        if self.literal_rules:
            self.literal_search = _plan((literal_pattern(list(self.literal_rules)),), _flags)
            searches.append(self.literal_search)
        self.pattern_rules = tuple(
            (rule, _plan((rubric.expand(rule.pattern),), _flags))
            for rule in rules
            if not rule.literal
        )
        searches += [search for _, search in self.pattern_rules]
        triggered = any(search.keys for search in searches)
        self._trigger = _trigger(tuple(searches)) if triggered else None
        self._twin: Matcher | None = None

    @property
    def literal_regex(self) -> re.Pattern[str] | None:
        """The one regex of every literal cue (``None`` when the rubric has none)."""
        return self.literal_search.regex if self.literal_search else None

    def _ignorecase(self) -> Matcher:
        """A twin compiled with IGNORECASE, for the rare text whose lower() changes length."""
        if self._twin is None:
            self._twin = Matcher(self.rubric, _flags=re.IGNORECASE)
        return self._twin

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
        n_sentences = len(spans)
        size = len(haystack)
        candidates: list[list[int]] | None = None
        tries: list[list[tuple[_MatchFn, ...] | None]] | None = None
        if self._trigger is not None:
            candidates, tries = self._trigger.candidates(haystack)
        cues_by_sentence: dict[int, list[_Cue]] | None = None

        by_criterion: dict[str, list[tuple[int, Finding]]] = {}
        for t, target in enumerate(self.targets):
            criterion = target.criterion
            allowed = _allowed_sentences(criterion, n_sentences, by_criterion, given)
            if explain or allowed is None:
                windows = [(0, size)]
            elif not allowed:
                by_criterion[criterion.id] = []
                continue
            else:
                windows = _windows(spans, allowed)
            cand, tried = (candidates[t], tries[t]) if candidates and tries else ([], [])
            found: list[tuple[int, Finding]] = []
            for w_start, w_end in windows:
                for m in target.search.finditer(haystack, cand, tried, w_start, w_end):
                    m_start, m_end = m.span()
                    if m_end == m_start:
                        continue
                    si = _index(starts, m_start)
                    s_start, s_end = spans[si]
                    if cues_by_sentence is None:
                        cues_by_sentence = self._cues_by_sentence(
                            text, haystack, candidates, tries, starts
                        )
                    cues = cues_by_sentence.get(si)
                    mods = (
                        self._modifiers(text, target, m_start, m_end, s_start, s_end, cues)
                        if cues
                        else []
                    )
                    if allowed is not None and si not in allowed:
                        mods.extend(_unmet(criterion, si, n_sentences, by_criterion, given))
                    found.append(
                        (
                            si,
                            Finding(
                                criterion=criterion.id,
                                text=text[m_start:m_end],
                                start=m_start,
                                end=m_end,
                                sentence=text[s_start:s_end],
                                modifiers=tuple(mods),
                            ),
                        )
                    )
            by_criterion[criterion.id] = found
        return [f for c in self.rubric.criteria for _, f in by_criterion.get(c.id, [])]

    # ----------------------------------------------------------------- helpers
    def _cues_by_sentence(
        self,
        text: str,
        haystack: str,
        candidates: list[list[int]] | None,
        tries: list[list[tuple[_MatchFn, ...] | None]] | None,
        starts: list[int],
    ) -> dict[int, list[_Cue]]:
        by_sentence: dict[int, list[_Cue]] = {}
        for cue in self._cues(text, haystack, candidates, tries):
            by_sentence.setdefault(_index(starts, cue.start), []).append(cue)
        return by_sentence

    def _cues(
        self,
        text: str,
        haystack: str,
        candidates: list[list[int]] | None = None,
        tries: list[list[tuple[_MatchFn, ...] | None]] | None = None,
    ) -> list[_Cue]:
        cues: list[_Cue] = []
        slot = len(self.targets)
        size = len(haystack)
        if self.literal_search is not None:
            cand, tried = (candidates[slot], tries[slot]) if candidates and tries else ([], [])
            slot += 1
            literal_rules = self.literal_rules
            for m in self.literal_search.finditer(haystack, cand, tried, 0, size):
                start, end = m.span()
                word = m.group()
                rules = literal_rules.get(word) or literal_rules[_norm(word)]
                for rule in rules:
                    cues.append(_Cue(rule, start, end, text[start:end]))
        for rule, search in self.pattern_rules:
            cand, tried = (candidates[slot], tries[slot]) if candidates and tries else ([], [])
            slot += 1
            for m in search.finditer(haystack, cand, tried, 0, size):
                start, end = m.span()
                if end > start:
                    cues.append(_Cue(rule, start, end, text[start:end]))
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


@functools.lru_cache(maxsize=64)
def _compile_equal(rubric: Rubric) -> Matcher:
    return Matcher(rubric)


_BY_IDENTITY: dict[int, tuple[Rubric, Matcher]] = {}


def compile_rubric(rubric: Rubric) -> Matcher:
    """The :class:`Matcher` for ``rubric``, compiled once per rubric and cached.

    Looked up by the rubric object's identity first: hashing a whole rubric (every pattern,
    example and explanation) costs more than matching a short vignette. Equal rubric
    objects still share one matcher. The cache keeps a reference to each rubric, so an id is
    never reused while its entry lives.
    """
    hit = _BY_IDENTITY.get(id(rubric))
    if hit is not None and hit[0] is rubric:
        return hit[1]
    matcher = _compile_equal(rubric)
    if len(_BY_IDENTITY) >= 64:
        _BY_IDENTITY.clear()  # atomic, so safe under threaded schedulers (dask)
    _BY_IDENTITY[id(rubric)] = (rubric, matcher)
    return matcher
