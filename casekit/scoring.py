"""Vignette + rubric (+ jurisdiction) -> Assessment.

Scoring is a pure function: the same vignette, rubric and jurisdiction table always give the
same :class:`~casekit.model.Assessment`, with no global state. :func:`score_frame` applies it
to a DataFrame partition by partition, so it runs unchanged under ``dask``'s
``map_partitions``.

Examples
--------
>>> from casekit import Vignette, score
>>> v = Vignette(id="demo", text="He said he is going to shoot his ex-wife tonight.")
>>> a = score(v)
>>> a.duty, a.action, a.rule
('required', 'warn_and_notify', 'tarasoff_duty')
>>> a.fired
('threat_communicated', 'serious_violence', 'identifiable_victim', 'imminent')
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from casekit.errors import CasekitError, DataFormatError, Problem
from casekit.matching import compile_rubric
from casekit.model import JURISDICTION_CODES, Assessment, Finding, Modifier, Vignette
from casekit.rules import Rubric, load_rubric, load_rubrics

if TYPE_CHECKING:
    import pandas as pd

    from casekit.reader import SecondReader

__all__ = [
    "FRAME_COLUMNS",
    "compare_jurisdictions",
    "rationale",
    "score",
    "score_all",
    "score_frame",
    "score_jurisdictions",
]

LAW_RUBRIC = "duty_to_protect"
FRAME_COLUMNS = ("vignette_id", "rubric", "jurisdiction", "duty", "action", "rule")

ERR_UNKNOWN_FACT = (
    "facts names criterion {criterion!r}, which rubric {rubric!r} does not define; "
    "known criteria: {known}"
)
ERR_UNKNOWN_JURISDICTION = (
    "jurisdiction {code!r} is not a known code; expected a US postal code, DC or 'generic'"
)
ERR_READER_RUBRIC = "a second reader trained for {reader!r} cannot read for rubric {rubric!r}"
#: Cue of a finding cancelled because, with the second reader, its requirement fired nowhere.
CASE_REQUIRES_CUE = "no {criterion} in the vignette"
ERR_FRAME_COLUMNS = "vignette frame is missing required column(s) {missing}; it has {have}"


def _resolve(rubric: Rubric | str | None) -> Rubric:
    if rubric is None:
        return load_rubric(LAW_RUBRIC)
    if isinstance(rubric, str):
        return load_rubric(rubric)
    return rubric


def _normalise_code(code: str) -> str:
    normal = "generic" if code.lower() == "generic" else code.upper()
    if normal not in JURISDICTION_CODES:
        raise CasekitError(ERR_UNKNOWN_JURISDICTION.format(code=code))
    return normal


def score(
    vignette: Vignette,
    rubric: Rubric | str | None = None,
    *,
    jurisdiction: str | None = None,
    explain: bool = True,
    reader: SecondReader | None = None,
) -> Assessment:
    """Score one vignette against one rubric.

    Parameters
    ----------
    vignette
        The case. Its ``facts`` (criterion id -> bool) override text detection for those
        criteria and are reported as given.
    rubric
        A :class:`~casekit.rules.Rubric`, a bundled rubric id, or ``None`` for
        ``duty_to_protect``.
    jurisdiction
        Overrides ``vignette.jurisdiction``. ``"generic"`` applies the rubric's own decision
        rules (the Tarasoff standard); a state code applies that state's law to the
        duty-to-protect rubric.
    explain
        Report every match, including those whose requirement failed (as cancelled
        findings). ``False`` skips searching for them: same fired criteria and decision,
        less work; :func:`score_frame` uses it.
    reader
        A trained :class:`~casekit.reader.SecondReader` for this rubric (or ``None``). Its
        sentence findings are added (``source == "reader"``) and combine with the rules per
        criterion as its model says: ``rules`` -- reader findings are advisory (kept,
        cancelled); ``or`` -- either fires the criterion; ``reader`` -- the reader decides,
        and rule findings it does not confirm are cancelled as ``unconfirmed``.

    Returns
    -------
    Assessment
        Fired criteria, every finding (cancelled ones included), duty, action, the rule that
        chose them, and a rationale citing the evidence.
    """
    rub = _resolve(rubric)
    code = _normalise_code(jurisdiction or vignette.jurisdiction or "generic")
    given, findings, fired = _detect(vignette, rub, explain, reader)
    return _decide(vignette, rub, code, given, findings, fired)


def score_jurisdictions(
    vignette: Vignette,
    rubric: Rubric | str | None = None,
    codes: Sequence[str] = ("generic",),
    *,
    explain: bool = False,
    reader: SecondReader | None = None,
) -> list[Assessment]:
    """One assessment per jurisdiction code, reading the text once.

    Equivalent to ``[score(vignette, rubric, jurisdiction=c, explain=explain, reader=reader)
    for c in codes]``; the criteria do not depend on the jurisdiction, only the decision does.
    """
    rub = _resolve(rubric)
    detected = _detect(vignette, rub, explain, reader)
    return [_decide(vignette, rub, _normalise_code(c), *detected) for c in codes]


def _detect(
    vignette: Vignette, rub: Rubric, explain: bool, reader: SecondReader | None = None
) -> tuple[dict[str, bool], list[Finding], tuple[str, ...]]:
    """Given facts, every finding, and the fired criteria in rubric order."""
    given = {}
    for criterion, value in vignette.facts.items():
        if criterion not in rub.criterion_ids:
            # facts for other rubrics' criteria are allowed; they simply don't apply here
            if not _known_elsewhere(criterion):
                raise DataFormatError(
                    [
                        Problem(
                            file="<vignette>",
                            id=vignette.id,
                            field=f"facts.{criterion}",
                            message=ERR_UNKNOWN_FACT.format(
                                criterion=criterion,
                                rubric=rub.id,
                                known=", ".join(rub.criterion_ids),
                            ),
                        )
                    ]
                )
            continue
        given[criterion] = bool(value)

    findings = compile_rubric(rub).find(vignette.text, given, explain=explain)
    live = {f.criterion for f in findings if not f.cancelled}
    if reader is not None:
        if reader.rubric != rub.id:
            raise CasekitError(ERR_READER_RUBRIC.format(reader=reader.rubric, rubric=rub.id))
        findings, live = _second_reading(vignette, rub, reader, findings, given)
    fired = tuple(c for c in rub.criterion_ids if given.get(c, c in live))
    return given, findings, fired


def _second_reading(
    vignette: Vignette,
    rub: Rubric,
    reader: SecondReader,
    findings: list[Finding],
    given: Mapping[str, bool],
) -> tuple[list[Finding], set[str]]:
    """Rule and reader findings combined per criterion as the reader's model says.

    The reader decides sentence by sentence, so it can find "serious violence" in a case
    where nothing threatens anyone. With the model's ``case_requirements``, the rubric's
    ``requires`` are checked again over the whole vignette after combining: a finding whose
    required criterion fired nowhere in the case (and was not given as a fact) is cancelled,
    naming the missing criterion, until nothing more changes.
    """
    from casekit.reader import UNCONFIRMED, UNCONFIRMED_CUE

    extra = [f for f in reader.read(vignette) if f.criterion not in given]
    if reader.model.context_veto:
        extra = [_context_veto(f, findings) for f in extra]
    read = {f.criterion for f in extra if not f.cancelled}
    combined = []
    for f in findings:
        if not f.cancelled and reader.mode(f.criterion) == "reader" and f.criterion not in read:
            veto = Modifier(UNCONFIRMED, UNCONFIRMED_CUE, f.start, f.end, True)
            f = dataclasses.replace(f, modifiers=(*f.modifiers, veto))
        combined.append(f)
    combined.extend(extra)
    if reader.model.case_requirements:
        return _case_requirements(rub, combined, given)
    return combined, {f.criterion for f in combined if not f.cancelled}


def _case_requirements(
    rub: Rubric, findings: list[Finding], given: Mapping[str, bool]
) -> tuple[list[Finding], set[str]]:
    """Cancel findings whose ``requires`` criterion fired nowhere in the vignette."""
    from casekit.matching import REQUIRES

    while True:
        live = {f.criterion for f in findings if not f.cancelled}
        unmet = {
            c: [
                r.criterion
                for r in rub.criterion(c).requires
                if not given.get(r.criterion, r.criterion in live)
            ]
            for c in live
        }
        if not any(unmet.values()):
            return findings, live
        findings = [
            f
            if f.cancelled or not unmet.get(f.criterion)
            else dataclasses.replace(
                f,
                modifiers=(
                    *f.modifiers,
                    *(
                        Modifier(REQUIRES, CASE_REQUIRES_CUE.format(criterion=r), -1, -1, True)
                        for r in unmet[f.criterion]
                    ),
                ),
            )
            for f in findings
        ]


def _context_veto(reading: Finding, findings: Sequence[Finding]) -> Finding:
    """Cancel a reader sentence where the patterns matched its criterion only to cancel it.

    The reader scores a sentence as a whole and reads negation, jokes and other people's
    words poorly; the rubric's ConText cues read them well. If, inside the reader's
    sentence, every pattern match of the same criterion was cancelled by a context cue (not
    merely by an unmet requirement), the reader finding is cancelled by those cues too.
    """
    from casekit.matching import REQUIRES
    from casekit.reader import ADVISORY, UNCONFIRMED

    if reading.cancelled:
        return reading
    inside = [
        f
        for f in findings
        if f.criterion == reading.criterion
        and f.source == "rules"
        and reading.start <= f.start
        and f.end <= reading.end
    ]
    cues = [
        m
        for f in inside
        for m in f.cancelled_by
        if m.category not in (REQUIRES, ADVISORY, UNCONFIRMED)
    ]
    if not cues or any(not f.cancelled for f in inside):
        return reading
    return dataclasses.replace(reading, modifiers=(*reading.modifiers, *dict.fromkeys(cues)))


def _decide(
    vignette: Vignette,
    rub: Rubric,
    code: str,
    given: dict[str, bool],
    findings: list[Finding],
    fired: tuple[str, ...],
) -> Assessment:
    """The rubric's (or, for a state, the law's) decision on fired criteria."""
    fired_set = frozenset(fired)
    rule = rub.decide(fired_set)
    duty, action, rule_id = rule.duty_type, rule.action, rule.id
    decision_text = rule.explanation
    citations = list(rub.citations[:1])
    cautions: list[str] = []
    alternatives: tuple[str, ...] = ()
    element = ""

    if rub.id == LAW_RUBRIC and code != "generic":
        from casekit import law

        decision = law.decide(law.get_jurisdiction(code), fired_set)
        duty, action = decision.duty, decision.action
        rule_id = f"law:{code}"
        decision_text = decision.rationale
        citations = list(decision.citations)
        cautions = list(decision.cautions)
        alternatives = decision.alternatives
        element = decision.element

    text = rationale(rub, vignette, fired, findings, given, duty, action, decision_text, code)
    return Assessment(
        vignette_id=vignette.id,
        rubric=rub.id,
        jurisdiction=code,
        fired=fired,
        findings=tuple(findings),
        duty=duty,
        action=action,
        rule=rule_id,
        rationale=text,
        given=given,
        citations=tuple(citations),
        cautions=tuple(cautions),
        alternatives=alternatives,
        element=element,
    )


def _known_elsewhere(criterion: str) -> bool:
    return criterion in _bundled_criteria()


@functools.cache
def _bundled_criteria() -> frozenset[str]:
    return frozenset(c for r in load_rubrics() for c in r.criterion_ids)


def _quote(f: Finding) -> str:
    noted = [m.describe() for m in f.modifiers if not m.cancels]
    if f.source == "reader" and f.confidence is not None:
        noted.append(f"second reader, p = {f.confidence:.2f}")
    return f'"{f.text}"' + (f" [{'; '.join(noted)}]" if noted else "")


def rationale(
    rubric: Rubric,
    vignette: Vignette,
    fired: Sequence[str],
    findings: Sequence[Finding],
    given: Mapping[str, bool],
    duty: str,
    action: str,
    decision_text: str,
    jurisdiction: str,
) -> str:
    """One paragraph: which criteria fired and on what words, what did not count, the decision."""
    parts: list[str] = []
    met = []
    for cid in fired:
        label = rubric.criterion(cid).label.lower()
        if cid in given:
            met.append(f"{label} (given as a fact)")
            continue
        quotes = [_quote(f) for f in findings if f.criterion == cid and not f.cancelled][:2]
        met.append(f"{label} ({', '.join(quotes)})")
    if met:
        parts.append("Criteria met: " + "; ".join(met) + ".")
    else:
        parts.append("No criterion was met.")
    missing = [
        rubric.criterion(c).label.lower() for c in rubric.criterion_ids if c not in set(fired)
    ]
    if missing:
        parts.append("Not met: " + ", ".join(missing) + ".")
    discounted = []
    for f in findings:
        if f.cancelled and f.criterion not in fired:
            why = "; ".join(m.describe() for m in f.cancelled_by)
            discounted.append(f"{_quote(f)} for {f.criterion} ({why})")
    if discounted:
        parts.append("Not counted: " + "; ".join(discounted[:3]) + ".")
    where = "the generic Tarasoff standard" if jurisdiction == "generic" else jurisdiction
    parts.append(f"Under {where}: {decision_text}")
    label = rubric.action(action).label if action in {a.id for a in rubric.actions} else action
    parts.append(f"Duty: {duty.replace('_', ' ')}. Recommended action: {label}.")
    return " ".join(parts)


def score_all(
    vignettes: Iterable[Vignette],
    rubrics: Sequence[Rubric | str] | None = None,
    *,
    jurisdiction: str | None = None,
) -> list[list[Assessment]]:
    """Score each vignette against each rubric: one list of assessments per vignette."""
    rubs = [_resolve(r) for r in rubrics] if rubrics else [_resolve(None)]
    return [[score(v, r, jurisdiction=jurisdiction) for r in rubs] for v in vignettes]


def score_frame(
    frame: pd.DataFrame,
    rubrics: Sequence[Rubric | str] | None = None,
    *,
    jurisdiction: str | None = None,
    reader: bool = False,
) -> pd.DataFrame:
    """Score a DataFrame of vignettes: one row per vignette x rubric.

    ``frame`` needs ``id`` and ``text`` columns; ``jurisdiction`` and ``facts`` (a mapping
    per row) are used when present. The result has :data:`FRAME_COLUMNS` plus one boolean
    column per criterion of every rubric (``<NA>`` where the criterion belongs to another
    rubric). Pure and partition-wise: ``pd.concat(score_frame(p) for p in parts)`` equals
    ``score_frame(pd.concat(parts))``, so it can run under ``dask`` ``map_partitions``.
    ``reader=True`` adds the bundled second reader (:mod:`casekit.reader`) for every rubric
    that has one -- about a hundred times slower; the result stays a pure function of the
    input (the reader's model is fixed data).
    """
    import pandas as pd

    missing = [c for c in ("id", "text") if c not in frame.columns]
    if missing:
        raise DataFormatError(
            ERR_FRAME_COLUMNS.format(missing=", ".join(missing), have=", ".join(frame.columns))
        )
    rubs = [_resolve(r) for r in rubrics] if rubrics else [_resolve(None)]
    criteria = list(dict.fromkeys(c for r in rubs for c in r.criterion_ids))
    readers: dict[str, SecondReader] = {}
    if reader:
        from casekit.reader import bundled_readers, load_reader

        readers = {r.id: load_reader(r.id) for r in rubs if r.id in bundled_readers()}
        for second in readers.values():
            second.warm([str(t) for t in frame["text"]])
    rows: list[dict[str, Any]] = []
    has_j = "jurisdiction" in frame.columns
    has_facts = "facts" in frame.columns
    for rec in frame.itertuples(index=False):
        facts = getattr(rec, "facts", None) if has_facts else None
        v = Vignette(
            id=str(rec.id),
            text=str(rec.text),
            jurisdiction=(str(rec.jurisdiction) if has_j and rec.jurisdiction else "generic"),
            facts=facts if isinstance(facts, Mapping) else {},
        )
        for rub in rubs:
            a = score(v, rub, jurisdiction=jurisdiction, explain=False, reader=readers.get(rub.id))
            row: dict[str, Any] = {
                "vignette_id": a.vignette_id,
                "rubric": a.rubric,
                "jurisdiction": a.jurisdiction,
                "duty": a.duty,
                "action": a.action,
                "rule": a.rule,
            }
            fired = set(a.fired)
            for c in criteria:
                row[c] = (c in fired) if c in rub.criterion_ids else pd.NA
            rows.append(row)
    out = pd.DataFrame(rows, columns=[*FRAME_COLUMNS, *criteria])
    for c in FRAME_COLUMNS:
        out[c] = out[c].astype("string")
    for c in criteria:
        out[c] = out[c].astype("boolean")
    return out


def compare_jurisdictions(
    vignette: Vignette,
    rubric: Rubric | str | None = None,
    *,
    codes: Sequence[str] | None = None,
) -> pd.DataFrame:
    """The same vignette under every jurisdiction: one row per jurisdiction.

    Columns: ``jurisdiction``, ``name``, ``duty``, ``action``, ``alternatives``,
    ``element`` (what decided it), ``confidence`` (of the law row), ``caution``,
    ``citation``. ``generic`` (the Tarasoff standard) comes first, then the states and DC
    by code. Feed the result to :func:`casekit.plots.jurisdiction_map`.
    """
    import pandas as pd

    from casekit import law

    table = law.load_jurisdictions()
    wanted = list(codes) if codes else ["generic", *sorted(c for c in table if c != "generic")]
    rows = []
    for a in score_jurisdictions(vignette, rubric, wanted):
        row = table[a.jurisdiction]
        rows.append(
            {
                "jurisdiction": a.jurisdiction,
                "name": row.name,
                "duty": a.duty,
                "action": a.action,
                "alternatives": ", ".join(a.alternatives),
                "element": a.element or a.rule,
                "confidence": row.confidence,
                "caution": " ".join(a.cautions),
                "citation": a.citations[0] if a.citations else "",
            }
        )
    return pd.DataFrame(rows)
