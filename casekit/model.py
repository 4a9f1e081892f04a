"""Frozen domain objects shared by every casekit module.

These are plain data: they carry no behaviour beyond small derived properties, so that
scoring stays a pure function of (vignette, rubric, jurisdiction row). Change one with
:func:`dataclasses.replace`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

__all__ = [
    "DIFFICULTIES",
    "DUTIES",
    "JURISDICTION_CODES",
    "SPLITS",
    "US_JURISDICTIONS",
    "Assessment",
    "Finding",
    "Modifier",
    "Vignette",
]

# 50 states + DC, by USPS code, with the name used in tables and maps.
US_JURISDICTIONS: Mapping[str, str] = MappingProxyType(
    {
        "AL": "Alabama", "AK": "Alaska", "AZ": "Arizona", "AR": "Arkansas",
        "CA": "California", "CO": "Colorado", "CT": "Connecticut", "DE": "Delaware",
        "DC": "District of Columbia", "FL": "Florida", "GA": "Georgia", "HI": "Hawaii",
        "ID": "Idaho", "IL": "Illinois", "IN": "Indiana", "IA": "Iowa", "KS": "Kansas",
        "KY": "Kentucky", "LA": "Louisiana", "ME": "Maine", "MD": "Maryland",
        "MA": "Massachusetts", "MI": "Michigan", "MN": "Minnesota", "MS": "Mississippi",
        "MO": "Missouri", "MT": "Montana", "NE": "Nebraska", "NV": "Nevada",
        "NH": "New Hampshire", "NJ": "New Jersey", "NM": "New Mexico", "NY": "New York",
        "NC": "North Carolina", "ND": "North Dakota", "OH": "Ohio", "OK": "Oklahoma",
        "OR": "Oregon", "PA": "Pennsylvania", "RI": "Rhode Island", "SC": "South Carolina",
        "SD": "South Dakota", "TN": "Tennessee", "TX": "Texas", "UT": "Utah",
        "VT": "Vermont", "VA": "Virginia", "WA": "Washington", "WV": "West Virginia",
        "WI": "Wisconsin", "WY": "Wyoming",
    }
)  # fmt: skip

#: Every code a vignette's ``jurisdiction`` may take: the 51 above plus ``generic``
#: (the Tarasoff standard, used when no state is chosen).
JURISDICTION_CODES: frozenset[str] = frozenset(US_JURISDICTIONS) | {"generic"}

Duty = Literal["required", "permitted", "not_triggered"]
DUTIES: tuple[str, ...] = ("required", "permitted", "not_triggered")
DIFFICULTIES: tuple[str, ...] = ("intro", "intermediate", "advanced")
SPLITS: tuple[str, ...] = ("tuning", "heldout")


def _frozen_mapping(value: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(value or {}))


@dataclass(frozen=True, slots=True)
class Vignette:
    """One anonymized case, as read from a vignette set (DESIGN §3).

    ``facts`` maps criterion id -> bool and, when present, replaces text detection for
    that criterion. ``labels`` is gold annotation: rubric id -> {criterion id -> bool},
    plus an optional ``"duty"`` key holding the annotator's duty outcome for the generic
    standard.
    """

    id: str
    text: str
    title: str = ""
    jurisdiction: str = "generic"
    setting: str = ""
    tags: tuple[str, ...] = ()
    difficulty: str = ""
    source: str = ""
    facts: Mapping[str, bool] = field(default_factory=dict)
    options: tuple[str, ...] = ()
    answer: str | None = None
    labels: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    split: str | None = None

    def __post_init__(self) -> None:
        # Freeze the mappings so a Vignette really is immutable once built.
        object.__setattr__(self, "tags", tuple(self.tags))
        object.__setattr__(self, "options", tuple(self.options))
        object.__setattr__(self, "facts", _frozen_mapping(self.facts))
        object.__setattr__(
            self,
            "labels",
            MappingProxyType({k: _frozen_mapping(v) for k, v in (self.labels or {}).items()}),
        )

    def to_record(self) -> dict[str, Any]:
        """The vignette as a plain dict in DESIGN §3 order, omitting empty optional fields."""
        record: dict[str, Any] = {"id": self.id}
        if self.title:
            record["title"] = self.title
        record["jurisdiction"] = self.jurisdiction
        for name in ("setting", "difficulty", "source"):
            if getattr(self, name):
                record[name] = getattr(self, name)
        if self.tags:
            record["tags"] = list(self.tags)
        record["text"] = self.text
        if self.facts:
            record["facts"] = dict(self.facts)
        if self.options:
            record["options"] = list(self.options)
        if self.answer is not None:
            record["answer"] = self.answer
        if self.labels:
            record["labels"] = {k: dict(v) for k, v in self.labels.items()}
        if self.split is not None:
            record["split"] = self.split
        return record


@dataclass(frozen=True, slots=True)
class Modifier:
    """A ConText cue that reached a finding, e.g. ``negated`` from the cue "denies"."""

    category: str
    cue: str
    start: int
    end: int
    cancels: bool

    def describe(self) -> str:
        return f'{self.category}: "{self.cue}"'


@dataclass(frozen=True, slots=True)
class Finding:
    """One piece of text evidence for one criterion.

    ``text == vignette.text[start:end]`` always holds. ``given`` findings come from a
    record's structured ``facts`` rather than the text; they have no span (``start ==
    end == -1``). ``source`` is ``"rules"`` for a rubric pattern's match and ``"reader"``
    for a sentence the trained second reader (:mod:`casekit.reader`) fired on, with its
    probability as ``confidence``.
    """

    criterion: str
    text: str
    start: int
    end: int
    sentence: str
    modifiers: tuple[Modifier, ...] = ()
    given: bool = False
    source: str = "rules"
    confidence: float | None = None

    @property
    def cancelled(self) -> bool:
        return any(m.cancels for m in self.modifiers)

    @property
    def cancelled_by(self) -> tuple[Modifier, ...]:
        return tuple(m for m in self.modifiers if m.cancels)


@dataclass(frozen=True, slots=True)
class Assessment:
    """The result of scoring one vignette against one rubric (DESIGN §3).

    ``fired`` lists criterion ids in rubric order; ``findings`` holds every finding,
    cancelled ones included. ``given`` maps criterion ids decided by structured facts to
    their value. ``cautions`` carries visible warnings (e.g. unsettled law).
    """

    vignette_id: str
    rubric: str
    jurisdiction: str
    fired: tuple[str, ...]
    findings: tuple[Finding, ...]
    duty: str
    action: str
    rule: str
    rationale: str
    given: Mapping[str, bool] = field(default_factory=dict)
    citations: tuple[str, ...] = ()
    cautions: tuple[str, ...] = ()
    alternatives: tuple[str, ...] = ()
    element: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "given", _frozen_mapping(self.given))

    def findings_for(self, criterion: str) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.criterion == criterion)

    def to_json(self) -> dict[str, Any]:
        """The DESIGN §5 JSON shape of one assessment."""
        return {
            "rubric": self.rubric,
            "fired": list(self.fired),
            "duty": self.duty,
            "action": self.action,
            "rule": self.rule,
            "findings": [
                {
                    "criterion": f.criterion,
                    "text": f.text,
                    "start": f.start,
                    "end": f.end,
                    "cancelled": f.cancelled,
                    "given": f.given,
                    "source": f.source,
                    **({} if f.confidence is None else {"confidence": f.confidence}),
                    "modifiers": [
                        {"category": m.category, "cue": m.cue, "cancels": m.cancels}
                        for m in f.modifiers
                    ],
                }
                for f in self.findings
            ],
            "given": dict(self.given),
            "rationale": self.rationale,
            "alternatives": list(self.alternatives),
            "element": self.element,
            "citations": list(self.citations),
            "cautions": list(self.cautions),
        }
