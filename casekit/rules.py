"""Rubrics: criteria, ConText cue rules, actions and decision rules, as validated data.

A rubric is one YAML file under ``data/rubrics/``. It is read with :func:`yaml.safe_load`,
checked against a closed set of keys, and every pattern is compiled once at load time, so a
broken rubric fails when it is loaded, not halfway through scoring a survey. Rules are data:
nothing in a rubric is executed. The cue-rule fields mirror medspaCy's ``ConTextRule``
(``literal``/``pattern``, ``category``, ``direction``, ``max_scope``, ``terminated_by``,
``allowed_types``) so rules port both ways.

Examples
--------
>>> rubric = load_rubric("duty_to_protect")
>>> rubric.criterion("identifiable_victim").label
'Identifiable victim'
>>> rubric.default_rule.duty_type
'not_triggered'
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from casekit.errors import RubricError
from casekit.model import DUTIES

__all__ = [
    "CATEGORIES",
    "DIRECTIONS",
    "Action",
    "Criterion",
    "CueRule",
    "DecisionRule",
    "Requirement",
    "Rubric",
    "bundled_rubrics",
    "load_rubric",
    "load_rubrics",
    "parse_rubric",
    "rubric_dir",
]

DIRECTIONS = ("forward", "backward", "bidirectional", "terminate", "pseudo")
#: ConText modifier categories a cue rule may carry. ``terminate`` and ``pseudo`` cues
#: modify nothing: the first closes scopes, the second blocks cues it overlaps
#: ("no longer" is not "no").
CATEGORIES = (
    "negated",
    "disavowed",
    "hypothetical",
    "conditional",
    "historical",
    "other_experiencer",
    "jest",
    "dream",
    "reported",
    "uncertain",
    "nonspecific",
    "terminate",
    "pseudo",
)
SCOPES = ("sentence", "adjacent", "vignette")

_TOP_KEYS = {
    "rubric": True,
    "version": True,
    "title": True,
    "description": False,
    "citations": False,
    "terms": False,
    "context": False,
    "criteria": True,
    "actions": True,
    "rules": True,
}
_CUE_KEYS = {
    "id": True,
    "category": True,
    "direction": True,
    "literal": False,
    "pattern": False,
    "max_scope": False,
    "terminated_by": False,
    "allowed_types": False,
    "description": False,
}
_CRITERION_KEYS = {
    "id": True,
    "label": True,
    "description": True,
    "match": True,
    "requires": False,
    "cancel_on": False,
    "examples": True,
}
_REQUIRES_KEYS = {"criterion": True, "scope": True}
_ACTION_KEYS = {
    "id": True,
    "label": True,
    "explanation": True,
    "appropriate": True,
    "reason": False,
}
_RULE_KEYS = {
    "id": True,
    "when_all": False,
    "when_any": False,
    "when_none": False,
    "default": False,
    "duty_type": True,
    "action": True,
    "explanation": True,
}
_EXAMPLE_KEYS = {"fires": True, "silent": True}

DEFAULT_MAX_SCOPE = 8
_ID = re.compile(r"^[a-z][a-z0-9_]*$")
#: ``{name}`` in a pattern stands for the alternation of the rubric's term list ``name``.
#: Regex quantifiers (``{2}``, ``{0,3}``) start with a digit and are left alone.
_UPPER = re.compile(r"(?<!\\)[A-Z]")
_TERM_REF = re.compile(r"\{([a-z][a-z0-9_]*)\}")

ERR_UNKNOWN_KEY = "{where}: unknown key {key!r}; allowed keys are {allowed}"
ERR_MISSING_KEY = "{where}: missing required key {key!r}"
ERR_TYPE = "{where}: key {key!r} must be {expected}, got {got}"
ERR_BAD_ID = "{where}: id {value!r} must be lower_snake_case ([a-z][a-z0-9_]*)"
ERR_DUPLICATE = "{where}: {kind} id {value!r} is defined more than once"
ERR_CHOICE = "{where}: key {key!r} is {value!r}; allowed values are {allowed}"
ERR_PATTERN = "{where}: pattern {pattern!r} does not compile: {error}"
ERR_REFERENCE = "{where}: key {key!r} refers to unknown {kind} {value!r}; known: {known}"
ERR_DEFAULT_COUNT = "{where}: exactly one rule must have 'default: true' (found {n})"
ERR_DEFAULT_LAST = "{where}: the default rule {rule!r} must be the last rule"
ERR_DEFAULT_CONDITIONS = "{where}: the default rule must not have when_all/when_any/when_none"
ERR_NO_CONDITIONS = "{where}: a non-default rule needs when_all, when_any or when_none"
ERR_CUE_PATTERN = "{where}: give exactly one of 'literal' or 'pattern'"
ERR_REQUIRES_CYCLE = "{where}: criteria requirements form a cycle: {cycle}"
ERR_EXAMPLES = "{where}: examples.{key} must be a non-empty list of strings"
ERR_NOT_FOUND = (
    "no rubric {name!r}: expected a bundled rubric id ({known}) or a path to a YAML file"
)
ERR_YAML = "{file}: not valid YAML: {error}"
ERR_REASON = "{where}: an inappropriate action (appropriate: false) needs a 'reason'"
ERR_UPPERCASE = (
    "{where}: pattern {pattern!r} has upper-case letters; patterns are matched against "
    "lower-cased text, so write them in lower case"
)
ERR_UNKNOWN_TERM = "{where}: pattern {pattern!r} uses unknown term {{{term}}}; known terms: {known}"


@dataclass(frozen=True, slots=True)
class CueRule:
    """A ConText cue: text that modifies targets within its scope."""

    id: str
    category: str
    direction: str
    pattern: str
    max_scope: int = DEFAULT_MAX_SCOPE
    terminated_by: tuple[str, ...] = ()
    allowed_types: tuple[str, ...] = ()
    literal: tuple[str, ...] = ()
    description: str = ""


@dataclass(frozen=True, slots=True)
class Requirement:
    """A criterion's finding only counts when ``criterion`` fires within ``scope``."""

    criterion: str
    scope: str


@dataclass(frozen=True, slots=True)
class Criterion:
    id: str
    label: str
    description: str
    match: tuple[str, ...]
    cancel_on: tuple[str, ...] = ()
    requires: tuple[Requirement, ...] = ()
    fires: tuple[str, ...] = ()
    silent: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Action:
    id: str
    label: str
    explanation: str
    appropriate: bool
    reason: str = ""


@dataclass(frozen=True, slots=True)
class DecisionRule:
    id: str
    duty_type: str
    action: str
    explanation: str
    when_all: tuple[str, ...] = ()
    when_any: tuple[str, ...] = ()
    when_none: tuple[str, ...] = ()
    default: bool = False

    def matches(self, fired: frozenset[str] | set[str]) -> bool:
        if self.default:
            return True
        return (
            all(c in fired for c in self.when_all)
            and (not self.when_any or any(c in fired for c in self.when_any))
            and not any(c in fired for c in self.when_none)
        )


@dataclass(frozen=True, slots=True)
class Rubric:
    """A validated rubric. Build with :func:`load_rubric` or :func:`parse_rubric`."""

    id: str
    version: str
    title: str
    criteria: tuple[Criterion, ...]
    actions: tuple[Action, ...]
    rules: tuple[DecisionRule, ...]
    context: tuple[CueRule, ...] = ()
    description: str = ""
    citations: tuple[str, ...] = ()
    terms: tuple[tuple[str, tuple[str, ...]], ...] = ()
    source: str = "<memory>"

    def expand(self, pattern: str) -> str:
        """``pattern`` with every ``{term}`` replaced by that term list's alternation."""
        return expand_terms(pattern, dict(self.terms))

    @property
    def criterion_ids(self) -> tuple[str, ...]:
        return tuple(c.id for c in self.criteria)

    def criterion(self, criterion_id: str) -> Criterion:
        for c in self.criteria:
            if c.id == criterion_id:
                return c
        raise KeyError(criterion_id)

    def action(self, action_id: str) -> Action:
        for a in self.actions:
            if a.id == action_id:
                return a
        raise KeyError(action_id)

    @property
    def default_rule(self) -> DecisionRule:
        return self.rules[-1]

    def decide(self, fired: frozenset[str] | set[str]) -> DecisionRule:
        """The first rule (in file order) whose conditions hold for ``fired``."""
        for rule in self.rules:
            if rule.matches(fired):
                return rule
        raise AssertionError("unreachable: the last rule is the validated default")

    def to_dict(self) -> dict[str, Any]:
        """The rubric as plain data in file layout; ``parse_rubric(to_dict())`` round-trips."""
        out: dict[str, Any] = {
            "rubric": self.id,
            "version": self.version,
            "title": self.title,
        }
        if self.description:
            out["description"] = self.description
        if self.citations:
            out["citations"] = list(self.citations)
        if self.terms:
            out["terms"] = {name: list(alts) for name, alts in self.terms}
        if self.context:
            out["context"] = [_cue_to_dict(c) for c in self.context]
        out["criteria"] = [_criterion_to_dict(c) for c in self.criteria]
        out["actions"] = [_action_to_dict(a) for a in self.actions]
        out["rules"] = [_rule_to_dict(r) for r in self.rules]
        return out

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), sort_keys=False, allow_unicode=True, width=100)


def _cue_to_dict(c: CueRule) -> dict[str, Any]:
    d: dict[str, Any] = {"id": c.id, "category": c.category, "direction": c.direction}
    if c.literal:
        d["literal"] = list(c.literal)
    else:
        d["pattern"] = c.pattern
    if c.max_scope != DEFAULT_MAX_SCOPE:
        d["max_scope"] = c.max_scope
    if c.terminated_by:
        d["terminated_by"] = list(c.terminated_by)
    if c.allowed_types:
        d["allowed_types"] = list(c.allowed_types)
    if c.description:
        d["description"] = c.description
    return d


def _criterion_to_dict(c: Criterion) -> dict[str, Any]:
    d: dict[str, Any] = {
        "id": c.id,
        "label": c.label,
        "description": c.description,
        "match": list(c.match),
    }
    if c.requires:
        d["requires"] = [{"criterion": r.criterion, "scope": r.scope} for r in c.requires]
    if c.cancel_on:
        d["cancel_on"] = list(c.cancel_on)
    d["examples"] = {"fires": list(c.fires), "silent": list(c.silent)}
    return d


def _action_to_dict(a: Action) -> dict[str, Any]:
    d: dict[str, Any] = {
        "id": a.id,
        "label": a.label,
        "explanation": a.explanation,
        "appropriate": a.appropriate,
    }
    if a.reason:
        d["reason"] = a.reason
    return d


def _rule_to_dict(r: DecisionRule) -> dict[str, Any]:
    d: dict[str, Any] = {"id": r.id}
    for key in ("when_all", "when_any", "when_none"):
        if getattr(r, key):
            d[key] = list(getattr(r, key))
    if r.default:
        d["default"] = True
    d.update(duty_type=r.duty_type, action=r.action, explanation=r.explanation)
    return d


# --------------------------------------------------------------------------- validation


class _Checker:
    """Collects every problem in one rubric so the author sees them all at once."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.problems: list[str] = []
        self.terms: dict[str, tuple[str, ...]] = {}

    def where(self, *parts: str) -> str:
        return " ".join([f"rubric {self.name!r}", *parts])

    def add(self, message: str) -> None:
        self.problems.append(message)

    def keys(self, where: str, data: object, spec: Mapping[str, bool]) -> dict[str, Any]:
        if not isinstance(data, Mapping):
            self.add(f"{where}: must be a mapping, got {type(data).__name__}")
            return {}
        allowed = ", ".join(sorted(spec))
        for key in data:
            if key not in spec:
                self.add(ERR_UNKNOWN_KEY.format(where=where, key=key, allowed=allowed))
        for key, required in spec.items():
            if required and key not in data:
                self.add(ERR_MISSING_KEY.format(where=where, key=key))
        return dict(data)

    def string(self, where: str, data: Mapping[str, Any], key: str, default: str = "") -> str:
        value = data.get(key, default)
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            self.add(ERR_TYPE.format(where=where, key=key, expected="a string", got=_kind(value)))
            return default
        return str(value).strip()

    def strings(self, where: str, data: Mapping[str, Any], key: str) -> tuple[str, ...]:
        value = data.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.add(
                ERR_TYPE.format(
                    where=where, key=key, expected="a list of strings", got=_kind(value)
                )
            )
            return ()
        return tuple(value)

    def choice(self, where: str, key: str, value: str, allowed: Sequence[str]) -> None:
        if value not in allowed:
            self.add(
                ERR_CHOICE.format(where=where, key=key, value=value, allowed=", ".join(allowed))
            )

    def ident(self, where: str, value: str) -> None:
        if not _ID.match(value):
            self.add(ERR_BAD_ID.format(where=where, value=value))

    def compiles(self, where: str, pattern: str) -> None:
        if _UPPER.search(pattern):
            self.add(ERR_UPPERCASE.format(where=where, pattern=pattern))
        try:
            compiled_pattern(expand_terms(pattern, self.terms))
        except KeyError as exc:
            known = ", ".join(sorted(self.terms)) or "(none)"
            self.add(
                ERR_UNKNOWN_TERM.format(where=where, pattern=pattern, term=exc.args[0], known=known)
            )
        except re.error as exc:
            self.add(ERR_PATTERN.format(where=where, pattern=pattern, error=exc))

    def items(self, where: str, data: Mapping[str, Any], key: str) -> list[Any]:
        value = data.get(key, [])
        if not isinstance(value, list):
            self.add(ERR_TYPE.format(where=where, key=key, expected="a list", got=_kind(value)))
            return []
        return value


def _label(kind: str, section: str, index: int, raw: object) -> str:
    """``criterion 'x'`` when the record names its id, else ``criteria[3]``."""
    if isinstance(raw, Mapping) and isinstance(raw.get("id"), str) and raw["id"]:
        return f"{kind} {raw['id']!r}"
    return f"{section}[{index}]"


def _kind(value: object) -> str:
    return "null" if value is None else type(value).__name__


def _unique(check: _Checker, kind: str, ids: Iterable[str]) -> None:
    seen: set[str] = set()
    for value in ids:
        if value in seen:
            check.add(ERR_DUPLICATE.format(where=check.where(), kind=kind, value=value))
        seen.add(value)


def _parse_terms(check: _Checker, raw: object) -> dict[str, tuple[str, ...]]:
    if not isinstance(raw, Mapping):
        check.add(
            ERR_TYPE.format(where=check.where(), key="terms", expected="a mapping", got=_kind(raw))
        )
        return {}
    terms: dict[str, tuple[str, ...]] = {}
    for name, alts in raw.items():
        where = check.where(f"term {name!r}")
        check.ident(where, str(name))
        if not isinstance(alts, list) or not alts or not all(isinstance(a, str) for a in alts):
            check.add(f"{where}: must be a non-empty list of regex alternatives")
            continue
        terms[str(name)] = tuple(alts)
    check.terms = terms
    for name, alts in terms.items():
        for alt in alts:
            check.compiles(check.where(f"term {name!r}"), alt)
    return terms


def _parse_cue(check: _Checker, i: int, raw: object) -> CueRule | None:
    where = check.where(_label("context rule", "context", i, raw))
    d = check.keys(where, raw, _CUE_KEYS)
    if not d:
        return None
    cue_id = check.string(where, d, "id")
    where = check.where(f"context rule {cue_id!r}")
    check.ident(where, cue_id)
    category = check.string(where, d, "category")
    direction = check.string(where, d, "direction")
    check.choice(where, "category", category, CATEGORIES)
    check.choice(where, "direction", direction, DIRECTIONS)
    literal: tuple[str, ...] = ()
    if ("literal" in d) == ("pattern" in d):
        check.add(ERR_CUE_PATTERN.format(where=where))
        pattern = ""
    elif "literal" in d:
        literal = check.strings(where, d, "literal")
        pattern = literal_pattern(literal)
    else:
        pattern = check.string(where, d, "pattern")
        check.compiles(where, pattern)
    max_scope = d.get("max_scope", DEFAULT_MAX_SCOPE)
    if isinstance(max_scope, bool) or not isinstance(max_scope, int) or max_scope < 1:
        check.add(
            ERR_TYPE.format(
                where=where, key="max_scope", expected="a positive integer", got=repr(max_scope)
            )
        )
        max_scope = DEFAULT_MAX_SCOPE
    terminated_by = check.strings(where, d, "terminated_by")
    for cat in terminated_by:
        check.choice(where, "terminated_by", cat, CATEGORIES)
    return CueRule(
        id=cue_id,
        category=category,
        direction=direction,
        pattern=pattern,
        max_scope=max_scope,
        terminated_by=terminated_by,
        allowed_types=check.strings(where, d, "allowed_types"),
        literal=literal,
        description=check.string(where, d, "description"),
    )


@functools.lru_cache(maxsize=8192)
def compiled_pattern(pattern: str) -> re.Pattern[str]:
    """``re.compile(pattern)``, kept: a rubric's patterns are compiled to check them at load
    and again, one by one, by the matcher (:mod:`casekit.matching`); ``re``'s own cache holds
    512, fewer than the bundled rubrics have."""
    return re.compile(pattern)


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


def _parse_criterion(check: _Checker, i: int, raw: object) -> Criterion | None:
    where = check.where(_label("criterion", "criteria", i, raw))
    d = check.keys(where, raw, _CRITERION_KEYS)
    if not d:
        return None
    cid = check.string(where, d, "id")
    where = check.where(f"criterion {cid!r}")
    check.ident(where, cid)
    match = check.strings(where, d, "match")
    if not match and isinstance(d.get("match"), list):
        check.add(f"{where}: 'match' needs at least one pattern")
    for p in match:
        check.compiles(where, p)
    cancel_on = check.strings(where, d, "cancel_on")
    for cat in cancel_on:
        check.choice(where, "cancel_on", cat, CATEGORIES)
    requires = []
    for j, raw_req in enumerate(check.items(where, d, "requires")):
        rwhere = f"{where} requires[{j}]"
        r = check.keys(rwhere, raw_req, _REQUIRES_KEYS)
        if r:
            req = Requirement(
                criterion=check.string(rwhere, r, "criterion"),
                scope=check.string(rwhere, r, "scope"),
            )
            check.choice(rwhere, "scope", req.scope, SCOPES)
            requires.append(req)
    examples = check.keys(f"{where} examples", d.get("examples", {}), _EXAMPLE_KEYS)
    fires: tuple[str, ...] = ()
    silent: tuple[str, ...] = ()
    if examples:
        for key in ("fires", "silent"):
            value = examples.get(key)
            ok = isinstance(value, list) and value and all(isinstance(v, str) for v in value)
            if not ok:
                check.add(ERR_EXAMPLES.format(where=where, key=key))
        fires = tuple(examples.get("fires") or ())
        silent = tuple(examples.get("silent") or ())
    return Criterion(
        id=cid,
        label=check.string(where, d, "label"),
        description=check.string(where, d, "description"),
        match=match,
        cancel_on=cancel_on,
        requires=tuple(requires),
        fires=fires,
        silent=silent,
    )


def _parse_action(check: _Checker, i: int, raw: object) -> Action | None:
    where = check.where(_label("action", "actions", i, raw))
    d = check.keys(where, raw, _ACTION_KEYS)
    if not d:
        return None
    aid = check.string(where, d, "id")
    where = check.where(f"action {aid!r}")
    check.ident(where, aid)
    appropriate = d.get("appropriate")
    if not isinstance(appropriate, bool):
        check.add(
            ERR_TYPE.format(
                where=where, key="appropriate", expected="true or false", got=_kind(appropriate)
            )
        )
        appropriate = True
    reason = check.string(where, d, "reason")
    if appropriate is False and not reason:
        check.add(ERR_REASON.format(where=where))
    return Action(
        id=aid,
        label=check.string(where, d, "label"),
        explanation=check.string(where, d, "explanation"),
        appropriate=appropriate,
        reason=reason,
    )


def _parse_rule(check: _Checker, i: int, raw: object) -> DecisionRule | None:
    where = check.where(_label("rule", "rules", i, raw))
    d = check.keys(where, raw, _RULE_KEYS)
    if not d:
        return None
    rid = check.string(where, d, "id")
    where = check.where(f"rule {rid!r}")
    check.ident(where, rid)
    default = d.get("default", False)
    if not isinstance(default, bool):
        check.add(
            ERR_TYPE.format(
                where=where, key="default", expected="true or false", got=_kind(default)
            )
        )
        default = False
    duty = check.string(where, d, "duty_type")
    check.choice(where, "duty_type", duty, DUTIES)
    rule = DecisionRule(
        id=rid,
        duty_type=duty,
        action=check.string(where, d, "action"),
        explanation=check.string(where, d, "explanation"),
        when_all=check.strings(where, d, "when_all"),
        when_any=check.strings(where, d, "when_any"),
        when_none=check.strings(where, d, "when_none"),
        default=default,
    )
    has_conditions = bool(rule.when_all or rule.when_any or rule.when_none)
    if default and has_conditions:
        check.add(ERR_DEFAULT_CONDITIONS.format(where=where))
    if not default and not has_conditions:
        check.add(ERR_NO_CONDITIONS.format(where=where))
    return rule


def _check_references(check: _Checker, rubric: Rubric) -> None:
    criteria = set(rubric.criterion_ids)
    actions = {a.id for a in rubric.actions}
    known = {"criterion": ", ".join(rubric.criterion_ids), "action": ", ".join(sorted(actions))}

    def refer(where: str, key: str, kind: str, values: Iterable[str], valid: set[str]) -> None:
        for value in values:
            if value not in valid:
                check.add(
                    ERR_REFERENCE.format(
                        where=where, key=key, kind=kind, value=value, known=known[kind]
                    )
                )

    for cue in rubric.context:
        where = check.where(f"context rule {cue.id!r}")
        refer(where, "allowed_types", "criterion", cue.allowed_types, criteria)
    for c in rubric.criteria:
        where = check.where(f"criterion {c.id!r}")
        refer(where, "requires", "criterion", (r.criterion for r in c.requires), criteria - {c.id})
    for r in rubric.rules:
        where = check.where(f"rule {r.id!r}")
        for key in ("when_all", "when_any", "when_none"):
            refer(where, key, "criterion", getattr(r, key), criteria)
        refer(where, "action", "action", [r.action] if r.action else [], actions)
    defaults = [r for r in rubric.rules if r.default]
    if len(defaults) != 1:
        check.add(ERR_DEFAULT_COUNT.format(where=check.where(), n=len(defaults)))
    elif rubric.rules[-1] is not defaults[0]:
        check.add(ERR_DEFAULT_LAST.format(where=check.where(), rule=defaults[0].id))
    cycle = _find_cycle(rubric.criteria)
    if cycle:
        check.add(ERR_REQUIRES_CYCLE.format(where=check.where(), cycle=" -> ".join(cycle)))


def _find_cycle(criteria: Sequence[Criterion]) -> list[str]:
    graph = {c.id: [r.criterion for r in c.requires] for c in criteria}
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(node: str) -> list[str]:
        state[node] = 1
        path.append(node)
        for nxt in graph.get(node, []):
            if state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            if nxt in graph and nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        state[node] = 2
        path.pop()
        return []

    for node in graph:
        if node not in state:
            found = visit(node)
            if found:
                return found
    return []


def parse_rubric(data: object, *, source: str = "<memory>") -> Rubric:
    """Validate rubric data (as read from YAML) and build a :class:`Rubric`.

    Raises
    ------
    RubricError
        Listing every problem: which rubric, which criterion/rule, which key, what is allowed.
    """
    name = data.get("rubric", source) if isinstance(data, Mapping) else source
    check = _Checker(str(name))
    d = check.keys(check.where(), data, _TOP_KEYS)
    if not d:
        raise RubricError("\n".join(check.problems))
    rid = check.string(check.where(), d, "rubric")
    check.ident(check.where(), rid)
    check.terms = _parse_terms(check, d.get("terms", {}))

    def parse_all(key: str, parse: Any) -> tuple[Any, ...]:
        return tuple(
            x
            for i, raw in enumerate(check.items(check.where(), d, key))
            if (x := parse(check, i, raw)) is not None
        )

    context = parse_all("context", _parse_cue)
    criteria = parse_all("criteria", _parse_criterion)
    actions = parse_all("actions", _parse_action)
    rules = parse_all("rules", _parse_rule)
    _unique(check, "context rule", (c.id for c in context))
    _unique(check, "criterion", (c.id for c in criteria))
    _unique(check, "action", (a.id for a in actions))
    _unique(check, "rule", (r.id for r in rules))
    rubric = Rubric(
        id=rid,
        version=check.string(check.where(), d, "version"),
        title=check.string(check.where(), d, "title"),
        description=check.string(check.where(), d, "description"),
        citations=check.strings(check.where(), d, "citations"),
        terms=tuple(check.terms.items()),
        context=context,
        criteria=criteria,
        actions=actions,
        rules=rules,
        source=source,
    )
    if rules:
        _check_references(check, rubric)
    if check.problems:
        raise RubricError("\n".join(check.problems))
    return rubric


def rubric_dir() -> Path:
    """The bundled rubric folder (``data/rubrics`` beside the package)."""
    return Path(__file__).resolve().parents[1] / "data" / "rubrics"


def bundled_rubrics() -> tuple[str, ...]:
    """Ids of the bundled rubrics, sorted, ``duty_to_protect`` first."""
    names = sorted(p.stem for p in rubric_dir().glob("*.yaml"))
    return tuple(sorted(names, key=lambda n: (n != "duty_to_protect", n)))


@functools.cache
def _load_path(path: Path) -> Rubric:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise RubricError(ERR_YAML.format(file=path.name, error=exc)) from exc
    except UnicodeDecodeError as exc:
        raise RubricError(ERR_YAML.format(file=path.name, error=exc)) from exc
    return parse_rubric(data, source=str(path))


def load_rubric(name_or_path: str | Path) -> Rubric:
    """Load a bundled rubric by id (``"duty_to_protect"``) or any rubric YAML by path.

    Loaded rubrics are cached per path: scoring many vignettes compiles patterns once.
    """
    candidate = Path(name_or_path)
    if candidate.suffix in (".yaml", ".yml") and candidate.is_file():
        return _load_path(candidate.resolve())
    bundled = rubric_dir() / f"{name_or_path}.yaml"
    if bundled.is_file():
        return _load_path(bundled)
    raise RubricError(
        ERR_NOT_FOUND.format(name=str(name_or_path), known=", ".join(bundled_rubrics()))
    )


def load_rubrics(names: Iterable[str | Path] | None = None) -> tuple[Rubric, ...]:
    """Load several rubrics; ``None`` means every bundled rubric."""
    return tuple(load_rubric(n) for n in (bundled_rubrics() if names is None else names))
