"""Jurisdiction table: duty type, trigger elements, discharge options and citations.

Whether a clinician *must* act on a client's threat, *may* disclose it, or has no duty
depends on the state, and so do the elements that trigger the duty (imminence, apparent
intent and ability, how the victim must be identifiable, who may report the threat) and the
steps that discharge it. ``data/jurisdictions.csv`` holds one row per jurisdiction (50 states,
DC and ``generic``, the Tarasoff standard) with those elements as closed-vocabulary columns;
``data/jurisdictions.md`` documents the columns and sources.

:func:`decide` turns a row and the set of fired ``duty_to_protect`` criteria into a
:class:`LawDecision`. It reads only the row's columns, never its code, so correcting a row in
the CSV changes the outcome.

This is teaching material, not legal advice: rows whose sources conflict or could not be
verified carry cautions that every view must show.

Examples
--------
>>> ca = get_jurisdiction("ca")
>>> ca.duty_type, ca.communicated_by
('mandatory', 'client_or_family')
>>> d = decide(ca, frozenset({"threat_communicated", "serious_violence", "identifiable_victim"}))
>>> d.duty, d.action
('required', 'warn_and_notify')
>>> decide(get_jurisdiction("TX"), frozenset({"threat_communicated", "serious_violence",
...     "identifiable_victim", "imminent"})).action
'may_disclose'
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

import casekit
from casekit.errors import CasekitError, DataFormatError, Problem
from casekit.model import JURISDICTION_CODES

__all__ = [
    "ACTIONS",
    "COLUMNS",
    "CRITERIA",
    "VOCABULARIES",
    "Jurisdiction",
    "LawDecision",
    "decide",
    "get_jurisdiction",
    "jurisdictions_path",
    "load_jurisdictions",
]

# --- vocabularies -------------------------------------------------------------------------

#: Criterion ids of the duty_to_protect rubric that :func:`decide` reads.
CRITERIA: tuple[str, ...] = (
    "threat_communicated",
    "serious_violence",
    "identifiable_victim",
    "imminent",
    "means_or_plan",
    "violence_history",
    "reported_by_third_party",
    "property_threat",
    "group_or_location_victim",
    "self_harm",
)

#: Action ids a decision may recommend (defined by the duty_to_protect rubric), with the
#: words used in rationales.
ACTION_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "warn_and_notify": "warn the victim and notify law enforcement",
        "notify_police": "notify law enforcement",
        "hospitalize": "seek voluntary or involuntary hospitalization",
        "report_to_authority": "report to the designated authority",
        "treatment_plan": "keep a documented treatment plan aimed at the threat",
        "emergency_evaluation": "evaluate for emergency hospitalization and notify police "
        "where the law allows",
        "may_disclose": "disclose to the victim or police if clinical judgment supports it",
        "assess_and_document": "continue treatment, assess the risk and document",
    }
)
ACTIONS: tuple[str, ...] = tuple(ACTION_LABELS)

#: Steps a discharge option may combine with ``+`` (alternatives are separated by ``;``).
DISCHARGE_STEPS: Mapping[str, str] = MappingProxyType(
    {
        "warn_victim": "warn the victim",
        "notify_police": "notify law enforcement",
        "hospitalization": "seek voluntary or involuntary hospitalization",
        "treatment_plan": "a documented treatment plan",
        "report_to_authority": "report to the designated authority",
        "prevent_until_police": "take steps to prevent violence until police take custody",
        "reasonable_precautions": "other reasonable precautions",
    }
)

_YES_NO = ("yes", "no")
_YES_NO_UNKNOWN = ("yes", "no", "unknown")
_DUTY_TYPES = ("mandatory", "mandatory_report", "permissive", "none_unsettled")

#: Allowed values of every closed-vocabulary column. ``professions`` and ``sources`` hold
#: ``;``-separated lists of these values.
VOCABULARIES: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {
        "duty_type": _DUTY_TYPES,
        "basis": ("statute", "case_law", "statute_and_case_law", "none"),
        "communicated_by": ("client", "client_or_family", "knowledgeable_person", "any_source"),
        "threat": ("serious_physical_violence", "explicit_imminent_serious_harm"),
        "imminence_required": _YES_NO,
        "intent_ability_required": _YES_NO,
        "history_route": ("none", "prerequisite", "alternative"),
        "victim": (
            "reasonably_identifiable",
            "clearly_identified",
            "group_or_location",
            "foreseeable",
            "not_required",
        ),
        "property_threats": _YES_NO_UNKNOWN,
        "self_harm": _YES_NO_UNKNOWN,
        "no_victim_duty": ("none", "required", "permitted"),
        "no_victim_action": (
            "none",
            "notify_police",
            "emergency_evaluation",
            "report_to_authority",
            "hospitalize",
        ),
        "discharge_mode": ("any", "all", "none"),
        "professions": (
            "all_mental_health",
            "psychiatrists",
            "physicians",
            "psychologists",
            "social_workers",
            "counselors",
            "mfts",
            "nurses",
            "substance_abuse_counselors",
            "facility_staff",
            "unspecified",
        ),
        "uncovered_professions": ("na", *_DUTY_TYPES),
        "sources": ("NCSL", "J14", "H02", "G", "S", "C", "F", "search"),
        "confidence": ("confirmed", "conflicting_sources", "unverified"),
        "checked_by": ("research_notes", "research_notes_and_search"),
    }
)
_LIST_COLUMNS = frozenset({"professions", "sources"})

#: Every column of jurisdictions.csv, in file order.
COLUMNS: tuple[str, ...] = (
    "code",
    "name",
    "duty_type",
    "basis",
    "communicated_by",
    "threat",
    "imminence_required",
    "intent_ability_required",
    "history_route",
    "victim",
    "property_threats",
    "self_harm",
    "no_victim_duty",
    "no_victim_action",
    "discharge",
    "discharge_mode",
    "professions",
    "uncovered_professions",
    "trigger_text",
    "discharge_text",
    "statutes",
    "cases",
    "sources",
    "confidence",
    "confidence_note",
    "last_checked",
    "checked_by",
)
_REQUIRED_TEXT = ("name", "trigger_text", "discharge_text")

# --- error messages (matched by tests) ------------------------------------------------------

MISSING_COLUMNS = "missing column(s): {columns}"
UNKNOWN_COLUMNS = "unknown column(s): {columns}; expected only: {expected}"
UNKNOWN_CODE = (
    "code {code!r} is not a known jurisdiction; expected a US postal code, DC or 'generic'"
)
DUPLICATE_CODE = "code {code!r} appears more than once (first on line {first})"
MISSING_CODES = (
    "no row for jurisdiction(s): {codes}; every US postal code, DC and 'generic' needs one"
)
BAD_VALUE = "{column} value {value!r} is not allowed; expected one of: {allowed}"
EMPTY_VALUE = "{column} must not be empty"
BAD_DATE = "last_checked {value!r} is not an ISO date (YYYY-MM-DD)"
BAD_STEP = (
    "discharge step {value!r} is not allowed; expected steps joined by '+' and options by ';' "
    "from: {allowed}"
)
DISCHARGE_MODE_MISMATCH = (
    "discharge_mode must be 'none' exactly when discharge is empty (got mode {mode!r})"
)
DUTY_NEEDS_DISCHARGE = "a {duty_type} row needs discharge options (discharge_mode 'any' or 'all')"
NO_VICTIM_MISMATCH = "no_victim_duty and no_victim_action must both be 'none' or both be set"
FORESEEABLE_NEEDS_ROUTE = "victim 'foreseeable' needs no_victim_duty 'required'"
EXPLICIT_NEEDS_IMMINENCE = "threat 'explicit_imminent_serious_harm' needs imminence_required 'yes'"
UNSETTLED_NOTE = "confidence {confidence!r} needs a confidence_note saying which sources disagree"
UNKNOWN_JURISDICTION = (
    "unknown jurisdiction {code!r}; codes are US postal codes (e.g. 'CA'), 'DC' or 'generic'"
)
EMPTY_FILE = "the file has no header row"


# --- the row --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Jurisdiction:
    """One row of the jurisdiction table (see data/jurisdictions.md for every column).

    ``discharge`` holds the discharge options in order of preference; each option is a tuple
    of steps that must all be taken. ``discharge_mode`` says whether any one option suffices
    (``any``) or every listed step is required (``all``). ``property_threats`` and
    ``self_harm`` are ``None`` where the sources did not settle the question.
    """

    code: str
    name: str
    duty_type: str
    basis: str
    communicated_by: str
    threat: str
    imminence_required: bool
    intent_ability_required: bool
    history_route: str
    victim: str
    property_threats: bool | None
    self_harm: bool | None
    no_victim_duty: str
    no_victim_action: str
    discharge: tuple[tuple[str, ...], ...]
    discharge_mode: str
    professions: tuple[str, ...]
    uncovered_professions: str
    trigger_text: str
    discharge_text: str
    statutes: tuple[str, ...]
    cases: tuple[str, ...]
    sources: tuple[str, ...]
    confidence: str
    confidence_note: str
    last_checked: dt.date
    checked_by: str

    @property
    def citations(self) -> tuple[str, ...]:
        """Statutes first, then cases."""
        return self.statutes + self.cases


# --- loading --------------------------------------------------------------------------------


def jurisdictions_path() -> Path:
    """The bundled table: ``data/jurisdictions.csv`` beside the package."""
    return Path(casekit.__file__).resolve().parents[1] / "data" / "jurisdictions.csv"


def load_jurisdictions(path: str | Path | None = None) -> Mapping[str, Jurisdiction]:
    """Load and validate a jurisdiction table.

    Parameters
    ----------
    path
        A CSV with the columns in :data:`COLUMNS`. ``None`` loads the bundled table, parsed
        once per process.

    Returns
    -------
    Mapping[str, Jurisdiction]
        Read-only mapping from code (``"CA"``, ``"DC"``, ``"generic"``) to row, in file order.

    Raises
    ------
    DataFormatError
        Listing every problem in the file: missing or unknown columns, unknown, duplicate or
        missing codes, values outside a column's vocabulary (with the allowed values) and
        inconsistent columns. Each problem names the file, line, record (code) and column.
    """
    if path is None:
        return _load_bundled()
    return _parse(Path(path))


@functools.cache
def _load_bundled() -> Mapping[str, Jurisdiction]:
    return _parse(jurisdictions_path())


def get_jurisdiction(code: str) -> Jurisdiction:
    """The bundled row for ``code`` (case-insensitive: ``"ca"``, ``"CA"``, ``"Generic"``).

    Raises
    ------
    CasekitError
        If ``code`` is not a US postal code, ``DC`` or ``generic``.
    """
    key = code.strip()
    key = "generic" if key.lower() == "generic" else key.upper()
    table = _load_bundled()
    if key not in table:
        raise CasekitError(UNKNOWN_JURISDICTION.format(code=code))
    return table[key]


def _parse(path: Path) -> Mapping[str, Jurisdiction]:
    name = str(path)
    with path.open(newline="", encoding="utf-8") as fh:
        reader = csv.reader(fh)
        header = next(reader, None)
        if header is None:
            raise DataFormatError([Problem(file=name, message=EMPTY_FILE, line=1)])
        header = [h.strip() for h in header]
        problems = _check_header(name, header)
        if problems:
            raise DataFormatError(problems)
        rows: dict[str, Jurisdiction] = {}
        first_line: dict[str, int] = {}
        seen: set[str] = set()
        line = reader.line_num + 1
        for index, values in enumerate(reader):
            record = dict(zip(header, (v.strip() for v in values), strict=False))
            for column in header[len(values) :]:
                record[column] = ""
            row = _parse_row(name, index, line, record, problems)
            code = record.get("code", "")
            seen.add(code)
            if row is not None:
                if code in first_line:
                    problems.append(
                        Problem(
                            file=name,
                            message=DUPLICATE_CODE.format(code=code, first=first_line[code]),
                            record=index,
                            id=code,
                            field="code",
                            line=line,
                            kind="duplicate",
                        )
                    )
                else:
                    first_line[code] = line
                    rows[code] = row
            line = reader.line_num + 1
    missing = sorted(JURISDICTION_CODES - seen, key=lambda c: (c == "generic", c))
    if missing:
        problems.append(Problem(file=name, message=MISSING_CODES.format(codes=", ".join(missing))))
    if problems:
        raise DataFormatError(problems)
    return MappingProxyType(rows)


def _check_header(name: str, header: list[str]) -> list[Problem]:
    problems = []
    missing = [c for c in COLUMNS if c not in header]
    if missing:
        problems.append(
            Problem(file=name, message=MISSING_COLUMNS.format(columns=", ".join(missing)), line=1)
        )
    unknown = [c for c in header if c not in COLUMNS]
    if unknown:
        problems.append(
            Problem(
                file=name,
                message=UNKNOWN_COLUMNS.format(
                    columns=", ".join(repr(c) for c in unknown), expected=", ".join(COLUMNS)
                ),
                line=1,
            )
        )
    return problems


def _split(value: str, sep: str = ";") -> tuple[str, ...]:
    return tuple(part.strip() for part in value.split(sep) if part.strip())


def _parse_row(
    name: str, index: int, line: int, record: Mapping[str, str], problems: list[Problem]
) -> Jurisdiction | None:
    code = record["code"]
    before = len(problems)

    def bad(column: str, message: str) -> None:
        problems.append(
            Problem(
                file=name, message=message, record=index, id=code or None, field=column, line=line
            )
        )

    if code not in JURISDICTION_CODES:
        bad("code", UNKNOWN_CODE.format(code=code))
    for column in _REQUIRED_TEXT:
        if not record[column]:
            bad(column, EMPTY_VALUE.format(column=column))
    for column, allowed in VOCABULARIES.items():
        values = _split(record[column]) if column in _LIST_COLUMNS else (record[column],)
        if not values:
            bad(column, EMPTY_VALUE.format(column=column))
        for value in values:
            if value not in allowed:
                bad(
                    column, BAD_VALUE.format(column=column, value=value, allowed=", ".join(allowed))
                )
    discharge = tuple(_split(option, "+") for option in _split(record["discharge"]))
    for option in discharge:
        for step in option:
            if step not in DISCHARGE_STEPS:
                bad("discharge", BAD_STEP.format(value=step, allowed=", ".join(DISCHARGE_STEPS)))
    try:
        last_checked = dt.date.fromisoformat(record["last_checked"])
    except ValueError:
        bad("last_checked", BAD_DATE.format(value=record["last_checked"]))
        last_checked = dt.date.min
    if len(problems) > before:
        return None

    # Cross-column rules: only meaningful once every value is in its vocabulary.
    if (record["discharge_mode"] == "none") != (not discharge):
        bad("discharge_mode", DISCHARGE_MODE_MISMATCH.format(mode=record["discharge_mode"]))
    if record["duty_type"] in ("mandatory", "mandatory_report") and not discharge:
        bad("discharge", DUTY_NEEDS_DISCHARGE.format(duty_type=record["duty_type"]))
    if (record["no_victim_duty"] == "none") != (record["no_victim_action"] == "none"):
        bad("no_victim_action", NO_VICTIM_MISMATCH)
    if record["victim"] == "foreseeable" and record["no_victim_duty"] != "required":
        bad("no_victim_duty", FORESEEABLE_NEEDS_ROUTE)
    if (
        record["threat"] == "explicit_imminent_serious_harm"
        and record["imminence_required"] != "yes"
    ):
        bad("imminence_required", EXPLICIT_NEEDS_IMMINENCE)
    if record["confidence"] != "confirmed" and not record["confidence_note"]:
        bad("confidence_note", UNSETTLED_NOTE.format(confidence=record["confidence"]))
    if len(problems) > before:
        return None

    return Jurisdiction(
        code=code,
        name=record["name"],
        duty_type=record["duty_type"],
        basis=record["basis"],
        communicated_by=record["communicated_by"],
        threat=record["threat"],
        imminence_required=record["imminence_required"] == "yes",
        intent_ability_required=record["intent_ability_required"] == "yes",
        history_route=record["history_route"],
        victim=record["victim"],
        property_threats=_tristate(record["property_threats"]),
        self_harm=_tristate(record["self_harm"]),
        no_victim_duty=record["no_victim_duty"],
        no_victim_action=record["no_victim_action"],
        discharge=discharge,
        discharge_mode=record["discharge_mode"],
        professions=_split(record["professions"]),
        uncovered_professions=record["uncovered_professions"],
        trigger_text=record["trigger_text"],
        discharge_text=record["discharge_text"],
        statutes=_split(record["statutes"]),
        cases=_split(record["cases"]),
        sources=_split(record["sources"]),
        confidence=record["confidence"],
        confidence_note=record["confidence_note"],
        last_checked=last_checked,
        checked_by=record["checked_by"],
    )


def _tristate(value: str) -> bool | None:
    return {"yes": True, "no": False}.get(value)


# --- deciding -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LawDecision:
    """What one jurisdiction's law says about one set of fired criteria.

    ``duty`` is ``required``, ``permitted`` or ``not_triggered``; ``action`` an action id
    from :data:`ACTIONS`; ``alternatives`` other actions the law accepts instead of
    ``action``; ``element`` the element that decided the outcome, in words; ``rationale``
    one to three sentences naming that element and citing the statute or case; ``cautions``
    warnings that must be shown with the decision (never empty for rows whose sources
    conflict or are unverified).
    """

    duty: str
    action: str
    alternatives: tuple[str, ...]
    element: str
    rationale: str
    citations: tuple[str, ...]
    cautions: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Check:
    ok: bool
    words: str


_VICTIM_WORDS = {
    "reasonably_identifiable": "a reasonably identifiable victim",
    "clearly_identified": "a clearly identified victim",
    "group_or_location": "an identifiable victim or group (including people identifiable by "
    "their association with a place or entity)",
    "foreseeable": "a reasonably identifiable victim",
    "not_required": "",
}


def decide(row: Jurisdiction, fired: Iterable[str]) -> LawDecision:
    """Apply one jurisdiction's trigger elements and discharge options to fired criteria.

    The outcome depends only on the row's structured columns, so a corrected CSV row
    changes it. Element mapping (documented in data/jurisdictions.md): "explicit" threat ->
    ``threat_communicated``; serious harm -> ``serious_violence``; "apparent intent and
    ability" or "specific means" -> ``means_or_plan``; "propensity" or "history" of
    violence -> ``violence_history``; a report by family or a knowledgeable person ->
    ``reported_by_third_party``.

    Parameters
    ----------
    row
        A row from :func:`load_jurisdictions` or :func:`get_jurisdiction`.
    fired
        Fired criterion ids of the ``duty_to_protect`` rubric (ids not in :data:`CRITERIA`
        are ignored).

    Returns
    -------
    LawDecision
    """
    f = frozenset(fired)
    where = "Under the generic Tarasoff standard" if row.code == "generic" else f"In {row.name}"
    cautions = _cautions(row, f)
    cite = _cite(row)

    if row.duty_type == "none_unsettled":
        return LawDecision(
            duty="not_triggered",
            action="assess_and_document",
            alternatives=(),
            element="no established duty to warn or protect",
            rationale=(
                f"{where} no statute or settled case law establishes a duty to warn or protect "
                f"({cite}); continue treatment, assess the risk and document. Disclosure can "
                "rest only on permissive confidentiality exceptions."
            ),
            citations=row.citations,
            cautions=cautions,
        )

    victim_present = "identifiable_victim" in f or (
        row.victim == "group_or_location" and "group_or_location_victim" in f
    )
    property_route = bool(row.property_threats) and "property_threat" in f
    checks = _checks(row, f, victim_present, property_route)
    failed = next((c for c in checks if not c.ok), None)
    self_route = (
        bool(row.self_harm) and "self_harm" in f and (not row.imminence_required or "imminent" in f)
    )

    if failed is not None and failed is checks[-1] and row.no_victim_duty != "none":
        # Every element but the victim is met and the law says what to do without one.
        action = row.no_victim_action
        trigger = _trigger_words(row, f, victim_present=False)
        element = f"{trigger}; no identifiable victim"
        if row.no_victim_duty == "required":
            rationale = (
                f"{where}, {trigger}, even with no identifiable victim, still requires action "
                f"({cite}): {ACTION_LABELS[action]}."
            )
        else:
            rationale = (
                f"{where}, with no identifiable victim there is no duty to warn: the duty "
                f"requires {checks[-1].words} ({cite}). Protective steps are permitted: "
                f"{ACTION_LABELS[action]}."
            )
        return LawDecision(
            duty=row.no_victim_duty,
            action=action,
            alternatives=(),
            element=element,
            rationale=rationale,
            citations=row.citations,
            cautions=cautions,
        )

    if failed is not None and not self_route:
        threat_is_serious = {"threat_communicated", "serious_violence"} <= f
        tail = (
            " Disclosure may still be permitted under general confidentiality exceptions."
            if threat_is_serious and row.duty_type != "permissive"
            else ""
        )
        kind = "permission to disclose" if row.duty_type == "permissive" else "duty"
        return LawDecision(
            duty="not_triggered",
            action="assess_and_document",
            alternatives=(),
            element=failed.words,
            rationale=(
                f"{where} the {kind} requires {failed.words} ({cite}); that element is missing, "
                f"so continue treatment, assess the risk and document.{tail}"
            ),
            citations=row.citations,
            cautions=cautions,
        )

    if failed is not None:  # only the self-harm route is met
        element = "a threat of harm to self"
        victim_present = False
    else:
        element = _trigger_words(row, f, victim_present=victim_present)

    if row.duty_type == "permissive":
        return LawDecision(
            duty="permitted",
            action="may_disclose",
            alternatives=(),
            element=element,
            rationale=(
                f"{where} the law permits but does not require disclosure when there is "
                f"{element} ({cite}); the clinician may disclose using clinical judgment."
            ),
            citations=row.citations,
            cautions=cautions,
        )

    actions = _discharge_actions(row, victim_present, prefer_hospital=failed is not None)
    action, alternatives = actions[0], actions[1:]
    if row.discharge_mode == "all":
        steps = [DISCHARGE_STEPS[s] for option in row.discharge for s in option]
        how = f"All of these are required: {'; '.join(steps)}."
        alternatives = ()
    elif alternatives:
        how = (
            f"Any one option discharges the duty: the primary one is to {ACTION_LABELS[action]}; "
            f"alternatives: {'; '.join(ACTION_LABELS[a] for a in alternatives)}."
        )
    else:
        how = f"The law's discharge: {row.discharge_text[0].lower()}{row.discharge_text[1:]}."
    return LawDecision(
        duty="required",
        action=action,
        alternatives=alternatives,
        element=element,
        rationale=f"{where} the duty is triggered by {element} ({cite}). {how}",
        citations=row.citations,
        cautions=cautions,
    )


def _checks(
    row: Jurisdiction, f: frozenset[str], victim_present: bool, property_route: bool
) -> list[_Check]:
    """The trigger elements in the order they are tested; the victim check is always last."""
    explicit = row.threat == "explicit_imminent_serious_harm"
    serious_words = (
        "an explicit threat of imminent serious physical harm or death"
        if explicit
        else "a threat of serious physical violence"
    )
    if row.property_threats:
        serious_words += " (or of substantial damage to property)"
    third_party_ok = row.communicated_by != "client"
    intent_ok = not row.intent_ability_required or "means_or_plan" in f
    intent_words = "apparent intent and ability to carry out the threat (means or plan)"
    if row.history_route == "alternative":
        intent_ok = intent_ok or "violence_history" in f
        intent_words += ", or a known history of physical violence"
    victim_words = _VICTIM_WORDS[row.victim]
    if row.property_threats:
        victim_words += " (not needed for a threat to property)"
    return [
        _Check("threat_communicated" in f, "a threat communicated to the clinician"),
        _Check(
            third_party_ok or "reported_by_third_party" not in f,
            "communication of the threat by the patient (a third party's report does not "
            "count here)",
        ),
        _Check("serious_violence" in f or property_route, serious_words),
        _Check(not row.imminence_required or "imminent" in f, "imminence of the threatened harm"),
        _Check(intent_ok, intent_words),
        _Check(
            row.history_route != "prerequisite" or "violence_history" in f,
            "the clinician's knowledge of the patient's propensity for violence",
        ),
        _Check(row.victim == "not_required" or victim_present or property_route, victim_words),
    ]


def _trigger_words(row: Jurisdiction, f: frozenset[str], *, victim_present: bool) -> str:
    """The elements of a row's trigger that this set of criteria met, as one phrase."""
    explicit = row.threat == "explicit_imminent_serious_harm"
    if "serious_violence" not in f and row.property_threats and "property_threat" in f:
        words = "a serious threat of substantial damage to property"
    elif explicit:
        words = "an explicit threat of imminent serious physical harm or death"
    else:
        words = "a threat of serious physical violence"
    if "reported_by_third_party" in f and row.communicated_by == "client_or_family":
        words += " reported by a family member"
    elif "reported_by_third_party" in f and row.communicated_by == "knowledgeable_person":
        words += " reported by a knowledgeable person"
    elif "reported_by_third_party" in f and row.communicated_by == "any_source":
        words += " reported by a third party"
    if victim_present:
        words += f" against {_VICTIM_WORDS[row.victim] or 'an identifiable victim'}"
    extras = []
    if row.imminence_required and not explicit:
        extras.append("imminence")
    if row.intent_ability_required:
        if "means_or_plan" in f or row.history_route != "alternative":
            extras.append("apparent intent and ability to carry it out (means or plan)")
        else:
            extras.append(
                "a known history of physical violence (in place of apparent intent and ability)"
            )
    if row.history_route == "prerequisite":
        extras.append("the clinician's knowledge of the patient's propensity for violence")
    if extras:
        words += ", with " + " and ".join(extras)
    return words


def _discharge_actions(
    row: Jurisdiction, victim_present: bool, *, prefer_hospital: bool
) -> tuple[str, ...]:
    """Map the row's discharge options to action ids, first option first."""
    actions: list[str] = []
    for option in row.discharge:
        action = _option_action(option, victim_present)
        if action is not None and action not in actions:
            actions.append(action)
    if not actions:
        actions.append("emergency_evaluation")
    if prefer_hospital and "hospitalize" in actions:
        actions.remove("hospitalize")
        actions.insert(0, "hospitalize")
    return tuple(actions)


def _option_action(option: tuple[str, ...], victim_present: bool) -> str | None:
    steps = set(option)
    if "warn_victim" in steps and victim_present:
        return "warn_and_notify"
    if steps & {"notify_police", "prevent_until_police"}:
        return "notify_police"
    if "hospitalization" in steps:
        return "hospitalize"
    if "treatment_plan" in steps:
        return "treatment_plan"
    if "report_to_authority" in steps:
        return "report_to_authority"
    if "reasonable_precautions" in steps:
        return "warn_and_notify" if victim_present else "emergency_evaluation"
    return None  # warning a victim when none is identifiable


def _cite(row: Jurisdiction) -> str:
    parts = [*row.statutes[:1], *row.cases[:1]]
    return "; ".join(parts) if parts else "no citation recorded"


_UNCOVERED_WORDS = {
    "mandatory": "a narrower case-law duty",
    "mandatory_report": "a duty to report only",
    "permissive": "permissive disclosure only",
    "none_unsettled": "no established duty",
}


def _cautions(row: Jurisdiction, f: frozenset[str]) -> tuple[str, ...]:
    cautions = []
    if row.confidence == "conflicting_sources":
        cautions.append(f"Sources conflict for {row.name}: {row.confidence_note}")
    elif row.confidence == "unverified":
        cautions.append(f"Not verified for {row.name}: {row.confidence_note}")
    if row.uncovered_professions != "na":
        cautions.append(
            f"This rule covers only: {', '.join(p.replace('_', ' ') for p in row.professions)}; "
            f"for other professions there is {_UNCOVERED_WORDS[row.uncovered_professions]}."
        )
    if row.communicated_by == "client_or_family" and "reported_by_third_party" in f:
        cautions.append(
            "A third party's report counts only if it comes from an immediate family member "
            "and is made to advance the patient's therapy."
        )
    if row.self_harm is None and "self_harm" in f:
        cautions.append(f"Whether threats to self are covered in {row.name} was not established.")
    if row.property_threats is None and "property_threat" in f:
        cautions.append(
            f"Whether threats to property are covered in {row.name} was not established."
        )
    return tuple(cautions)
