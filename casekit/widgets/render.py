"""HTML for the widgets: highlighted vignette text, criteria checklist, decision, error box.

Pure functions of domain objects returning strings, so they are tested without a browser.
Every piece of vignette or user text goes through :func:`html.escape`. Highlights use colour
*and* a text label after each finding, so nothing depends on colour alone; cancelled
findings are struck through and labelled with the modifier that cancelled them. Sentences the
trained second reader fired on (``source == "reader"``) are underlined, not filled, and
labelled with the reader's probability, so its evidence never looks like a pattern match.
"""

from __future__ import annotations

import html
import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from casekit.model import Assessment, Finding, Vignette
from casekit.rules import Rubric

__all__ = [
    "CRITERION_COLOURS",
    "assessment_html",
    "checklist_html",
    "criterion_colour",
    "error_html",
    "highlight_html",
    "notice_html",
]

#: Light backgrounds (Okabe-Ito hues, lightened so black text stays readable), one per
#: criterion position in the rubric; the label beside each highlight carries the meaning.
CRITERION_COLOURS: tuple[str, ...] = (
    "#F9C9A7",  # vermillion
    "#B3D7F0",  # blue
    "#FBE29A",  # orange
    "#A8E0CC",  # bluish green
    "#EBC6DC",  # reddish purple
    "#C9E7F8",  # sky blue
    "#F6F1A6",  # yellow
    "#D0CDE8",  # indigo
)
CANCELLED_COLOUR = "#E4E4E4"
SHORT_CUE = 24  # longer cues (e.g. a requirement's description) go in the tooltip only

STYLE = """<style>
.ck-text{white-space:pre-wrap;line-height:1.9;font-size:15px;max-width:60em}
.ck-hl{padding:1px 0;border-radius:2px;color:#000}
.ck-cancelled{text-decoration:line-through;text-decoration-thickness:2px;color:#555;
 background:#E4E4E4}
.ck-tag{display:inline-block;font-size:11px;line-height:1.3;padding:0 4px;margin:0 2px;
 border:1px solid #444;border-radius:3px;vertical-align:super;color:#000;white-space:nowrap}
.ck-tag-cancelled{background:#fff;border-style:dashed;color:#444}
.ck-reader{text-decoration:underline dotted #333;text-decoration-thickness:2px;
 text-underline-offset:3px}
.ck-tag-reader{background:#fff;border-width:2px;border-style:dotted}
.ck-check td,.ck-check th,.ck-table td,.ck-table th{padding:2px 8px;text-align:left;
 vertical-align:top;border-bottom:1px solid #ddd}
.ck-error{border:2px solid #B00020;background:#FDECEA;color:#5F0010;padding:8px 12px;
 border-radius:4px;white-space:pre-wrap;font-family:monospace;font-size:13px}
.ck-notice{border:1px solid #888;background:#F4F4F4;padding:6px 10px;border-radius:4px}
.ck-caution{border-left:4px solid #E69F00;background:#FFF6E0;padding:4px 8px;margin:4px 0}
.ck-on{font-weight:bold;color:#006400}.ck-off{font-weight:bold;color:#8B0000}
.ck-swatch{display:inline-block;width:1em;height:1em;border:1px solid #444;
 vertical-align:middle;margin-right:4px}
</style>"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def criterion_colour(criterion: str, rubric: Rubric | None = None) -> str:
    """The highlight colour of one criterion: by its position in the rubric."""
    ids = rubric.criterion_ids if rubric is not None else ()
    position = ids.index(criterion) if criterion in ids else sum(map(ord, criterion))
    return CRITERION_COLOURS[position % len(CRITERION_COLOURS)]


def _label(criterion: str, rubric: Rubric | None) -> str:
    if rubric is not None and criterion in rubric.criterion_ids:
        return rubric.criterion(criterion).label
    return criterion.replace("_", " ")


def _why(finding: Finding) -> str:
    return "; ".join(m.describe() for m in finding.cancelled_by)


def _short_why(finding: Finding) -> str:
    """The cancelling cues for a label: ``negated: "denies"``; long cues by category only."""
    return "; ".join(
        m.describe() if len(m.cue) <= SHORT_CUE else m.category for m in finding.cancelled_by
    )


@dataclass(frozen=True, slots=True)
class _Span:
    start: int
    end: int
    criterion: str
    cancelled: bool
    why: str
    short: str
    confidence: float | None = None

    @property
    def reader(self) -> bool:
        return self.confidence is not None


def _spans(text: str, findings: Sequence[Finding]) -> list[_Span]:
    """Rule spans, and the second reader's live ones (its advisory ones are listed only)."""
    seen: dict[tuple[str, int, int, bool], _Span] = {}
    for f in findings:
        if f.given or not (0 <= f.start < f.end <= len(text)):
            continue
        reader = f.source == "reader"
        if reader and f.cancelled:
            continue
        key = (f.criterion, f.start, f.end, reader)
        confidence = (f.confidence or 0.0) if reader else None
        span = _Span(f.start, f.end, f.criterion, f.cancelled, _why(f), _short_why(f), confidence)
        # A live finding of the same criterion on the same words outranks a cancelled one.
        if key not in seen or (seen[key].cancelled and not span.cancelled):
            seen[key] = span
    return sorted(seen.values(), key=lambda s: (s.start, -s.end, s.criterion))


def _background(colours: Sequence[str]) -> str:
    if len(colours) == 1:
        return f"background:{colours[0]}"
    stops = []
    width = 6
    for i, colour in enumerate(colours):
        stops.append(f"{colour} {i * width}px {(i + 1) * width}px")
    return f"background:repeating-linear-gradient(135deg,{','.join(stops)})"


def _tag(span: _Span, rubric: Rubric | None) -> str:
    label = _e(_label(span.criterion, rubric))
    if span.reader:
        colour = criterion_colour(span.criterion, rubric)
        return (
            f'<span class="ck-tag ck-tag-reader" data-criterion="{_e(span.criterion)}" '
            f'style="border-color:{colour}" title="the second reader (a trained sentence '
            f'model) gives this sentence p = {span.confidence:.2f}">{label} · second reader '
            f"{span.confidence:.2f}</span>"
        )
    if span.cancelled:
        return (
            f'<span class="ck-tag ck-tag-cancelled" data-criterion="{_e(span.criterion)}" '
            f'title="not counted: {_e(span.why)}"><s>{label}</s> not counted — '
            f"{_e(span.short)}</span>"
        )
    colour = criterion_colour(span.criterion, rubric)
    return (
        f'<span class="ck-tag" data-criterion="{_e(span.criterion)}" '
        f'style="background:{colour}">{label}</span>'
    )


def highlight_html(text: str, findings: Sequence[Finding], rubric: Rubric | None = None) -> str:
    """The vignette text with every finding marked.

    The text is cut at every finding boundary, so overlapping and nested findings become
    runs of segments: a segment covered by several live findings is striped in all their
    colours, and each finding gets a label where it ends (all labels are kept). A segment
    covered only by cancelled findings is struck through; the label names the modifier
    that cancelled it (``negated: "denies"``).

    Examples
    --------
    >>> from casekit.model import Finding
    >>> f = Finding("imminent", "tonight", 10, 17, "")
    >>> "<mark" in highlight_html("I'll go <b>tonight", [f])
    True
    """
    spans = _spans(text, findings)
    cuts = sorted({0, len(text), *(s.start for s in spans), *(s.end for s in spans)})
    parts: list[str] = ['<div class="ck-text">']
    for a, b in itertools.pairwise(cuts):
        covering = [s for s in spans if s.start <= a and s.end >= b]
        segment = _e(text[a:b])
        read = list(dict.fromkeys(s.criterion for s in covering if s.reader))
        if read:
            title = "second reader: " + ", ".join(_label(c, rubric) for c in read)
            segment = (
                f'<u class="ck-reader" data-criteria="{_e(" ".join(read))}" '
                f'title="{_e(title)}">{segment}</u>'
            )
        covering = [s for s in covering if not s.reader]
        live = [s for s in covering if not s.cancelled]
        if live:
            criteria = list(dict.fromkeys(s.criterion for s in live))
            colours = [criterion_colour(c, rubric) for c in criteria]
            title = ", ".join(_label(c, rubric) for c in criteria)
            parts.append(
                f'<mark class="ck-hl" data-criteria="{_e(" ".join(criteria))}" '
                f'title="{_e(title)}" style="{_background(colours)}">{segment}</mark>'
            )
        elif covering:
            criteria = list(dict.fromkeys(s.criterion for s in covering))
            title = "not counted: " + "; ".join(
                f"{_label(s.criterion, rubric)} ({s.why})" for s in covering
            )
            parts.append(
                f'<s class="ck-cancelled" data-criteria="{_e(" ".join(criteria))}" '
                f'title="{_e(title)}">{segment}</s>'
            )
        else:
            parts.append(segment)
        parts.extend(_tag(s, rubric) for s in spans if s.end == b)
    parts.append("</div>")
    return "".join(parts)


def checklist_html(assessment: Assessment, rubric: Rubric) -> str:
    """One row per criterion: met or not (as a word and a symbol), evidence, what cancelled it."""
    rows = [
        '<table class="ck-check"><tr><th></th><th>Criterion</th><th>Status</th>'
        "<th>Evidence</th></tr>"
    ]
    fired = set(assessment.fired)
    for c in rubric.criteria:
        found = assessment.findings_for(c.id)
        if c.id in assessment.given:
            status = f"given as a fact: {'met' if assessment.given[c.id] else 'not met'}"
        else:
            status = "met" if c.id in fired else "not met"
        mark = "✔" if c.id in fired else "✘"
        evidence = []
        for f in found:
            if f.given:
                continue
            reader = ""
            if f.source == "reader" and f.confidence is not None:
                reader = f" <small>(second reader, p = {f.confidence:.2f})</small>"
            if f.cancelled:
                evidence.append(f"<s>“{_e(f.text)}”</s>{reader} ({_e(_why(f))})")
            else:
                evidence.append(f"“{_e(f.text)}”{reader}")
        swatch = (
            f'<span class="ck-swatch" style="background:{criterion_colour(c.id, rubric)}"></span>'
        )
        rows.append(
            f'<tr data-criterion="{_e(c.id)}" data-fired="{str(c.id in fired).lower()}">'
            f"<td>{mark}</td><td>{swatch}<b>{_e(c.label)}</b><br><small>{_e(c.description)}"
            f"</small></td><td>{_e(status)}</td><td>{'<br>'.join(evidence) or '—'}</td></tr>"
        )
    rows.append("</table>")
    return "".join(rows)


def _action_label(action: str, rubric: Rubric) -> str:
    try:
        return rubric.action(action).label
    except KeyError:
        return action.replace("_", " ")


def assessment_html(assessment: Assessment, rubric: Rubric) -> str:
    """The decision: rule, duty, action, rationale, citations, cautions and provenance."""
    parts = [
        f"<p><b>Duty:</b> <span class='ck-duty'>{_e(assessment.duty.replace('_', ' '))}</span>"
        f" &nbsp; <b>Recommended action:</b> <span class='ck-action'>"
        f"{_e(_action_label(assessment.action, rubric))}</span></p>",
        f"<p><b>Decision rule:</b> <code>{_e(assessment.rule)}</code> "
        f"(rubric <code>{_e(rubric.id)}</code> v{_e(rubric.version)}, jurisdiction "
        f"<code>{_e(assessment.jurisdiction)}</code>)</p>",
        f"<p class='ck-rationale'><b>Why:</b> {_e(assessment.rationale)}</p>",
    ]
    parts.extend(f"<div class='ck-caution'>⚠ {_e(c)}</div>" for c in assessment.cautions)
    if assessment.citations:
        items = "".join(f"<li>{_e(c)}</li>" for c in assessment.citations)
        parts.append(f"<p><b>Citations:</b></p><ul>{items}</ul>")
    parts.append(
        "<p><small>Teaching aid, not legal advice: the outcome follows from the rubric and "
        "jurisdiction data shown above.</small></p>"
    )
    return "".join(parts)


def vignette_header_html(vignette: Vignette) -> str:
    """Title, id and metadata of a case."""
    meta = [f"id <code>{_e(vignette.id)}</code>", f"jurisdiction {_e(vignette.jurisdiction)}"]
    if vignette.setting:
        meta.append(_e(vignette.setting))
    if vignette.difficulty:
        meta.append(f"difficulty {_e(vignette.difficulty)}")
    tags = " ".join(f"<code>{_e(t)}</code>" for t in vignette.tags)
    return f"<h3>{_e(vignette.title or vignette.id)}</h3><p>{' · '.join(meta)}</p>" + (
        f"<p>tags: {tags}</p>" if tags else ""
    )


def error_html(message: str) -> str:
    """A readable error box (no traceback)."""
    return f'{STYLE}<div class="ck-error" role="alert"><b>Problem:</b> {_e(message)}</div>'


def notice_html(message: str) -> str:
    return f'<div class="ck-notice">{_e(message)}</div>'


def table_html(
    columns: Sequence[str], rows: Sequence[Mapping[str, object]], *, css: str = "ck-table"
) -> str:
    """A plain escaped HTML table."""
    head = "".join(f"<th>{_e(c)}</th>" for c in columns)
    body = "".join(
        "<tr>" + "".join(f"<td>{_e(r.get(c, ''))}</td>" for c in columns) + "</tr>" for r in rows
    )
    return f'<table class="{css}"><tr>{head}</tr>{body}</table>'
