"""WhatIf: edit a case's text, facts or jurisdiction and watch the assessment change."""

from __future__ import annotations

import dataclasses
from typing import Any

import ipywidgets as W

from casekit.model import JURISDICTION_CODES, Assessment, Vignette
from casekit.rules import Rubric
from casekit.scoring import score
from casekit.widgets._common import Debouncer, ErrorBox, resolve_rubric
from casekit.widgets.panel import CriteriaPanel
from casekit.widgets.render import STYLE, _e

__all__ = ["FROM_TEXT", "WhatIf", "changes_html", "pii_html"]

#: Fact toggle values: detect from the text, or force the criterion on/off.
FROM_TEXT, FORCE_ON, FORCE_OFF = "from text", "yes", "no"
DEFAULT_TEXT = (
    "During the session the client said he is going to shoot his brother-in-law tonight; "
    "he keeps a rifle in the truck."
)


def changes_html(before: Assessment, after: Assessment, rubric: Rubric) -> str:
    """What differs between two assessments: criteria on/off, duty and action."""
    on = [c for c in after.fired if c not in before.fired]
    off = [c for c in before.fired if c not in after.fired]
    items = [
        f"<li class='ck-on' data-change='on' data-criterion='{_e(c)}'>▲ now met: "
        f"{_e(rubric.criterion(c).label)}</li>"
        for c in on
    ]
    items += [
        f"<li class='ck-off' data-change='off' data-criterion='{_e(c)}'>▼ no longer met: "
        f"{_e(rubric.criterion(c).label)}</li>"
        for c in off
    ]
    if before.duty != after.duty:
        items.append(
            f"<li class='ck-on' data-change='duty'>duty: {_e(before.duty)} → "
            f"<b>{_e(after.duty)}</b></li>"
        )
    if before.action != after.action:
        items.append(
            f"<li class='ck-on' data-change='action'>action: {_e(before.action)} → "
            f"<b>{_e(after.action)}</b></li>"
        )
    if not items:
        return "<p class='ck-changes'>Same outcome as the original case.</p>"
    return (
        "<div class='ck-changes'><b>Compared with the original:</b><ul>"
        + "".join(items)
        + "</ul></div>"
    )


def pii_html(text: str) -> str:
    """Possible identifiers in ``text``, listed with their type (anonymity check)."""
    from casekit.anonymize import find_pii

    found = find_pii(text)
    if not found:
        return (
            "<p class='ck-pii ck-on'>✔ Anonymity check: no names, dates, places or numbers "
            "found.</p>"
        )
    items = "".join(
        f"<li data-entity='{_e(f.entity)}'>{_e(f.entity)}: “{_e(f.text)}” "
        f"(characters {f.start}–{f.end})</li>"
        for f in found
    )
    return (
        "<div class='ck-pii ck-caution'><b>⚠ Anonymity check: replace these before sharing "
        f"the case</b><ul>{items}</ul></div>"
    )


class WhatIf(W.VBox):
    """Edit the text, toggle facts or change jurisdiction; the assessment updates live.

    Parameters
    ----------
    vignette : Vignette, optional
        The starting case (the "original" changes are compared with); default a short
        example.
    rubric : Rubric or str, optional
    debounce : float
        Seconds of typing pause before rescoring; 0 rescores on every change.
    check_pii : bool
        Also list possible identifiers in the text (:func:`casekit.anonymize.find_pii`),
        for writing new vignettes.

    Attributes
    ----------
    text : ipywidgets.Textarea
    jurisdiction : ipywidgets.Dropdown
    facts : dict of str -> ipywidgets.ToggleButtons
        Per criterion: ``"from text"``, ``"yes"`` or ``"no"``.
    changes : ipywidgets.HTML
        What changed relative to the original.
    pii : ipywidgets.HTML
        Possible identifiers (empty unless ``check_pii``).
    panel : CriteriaPanel
    baseline, assessment : Assessment
    """

    def __init__(
        self,
        vignette: Vignette | None = None,
        rubric: Rubric | str | None = None,
        *,
        debounce: float = 0.3,
        check_pii: bool = False,
        **kwargs: Any,
    ) -> None:
        self.rubric = resolve_rubric(rubric)
        self.original = vignette or Vignette(id="what-if", title="What if…", text=DEFAULT_TEXT)
        self.error = ErrorBox()
        self.text = W.Textarea(
            value=self.original.text, continuous_update=True,
            layout=W.Layout(width="100%", height="9em"),
        )  # fmt: skip
        self.jurisdiction = W.Dropdown(
            options=["generic", *sorted(JURISDICTION_CODES - {"generic"})],
            value=self.original.jurisdiction,
            description="Jurisdiction",
        )
        self.facts: dict[str, W.ToggleButtons] = {}
        rows = []
        for c in self.rubric.criteria:
            given = self.original.facts.get(c.id)
            value = FROM_TEXT if given is None else (FORCE_ON if given else FORCE_OFF)
            toggle = W.ToggleButtons(
                options=[FROM_TEXT, FORCE_ON, FORCE_OFF], value=value,
                style={"button_width": "6em"},
            )  # fmt: skip
            self.facts[c.id] = toggle
            rows.append(W.HBox([W.Label(c.label, layout=W.Layout(width="20em")), toggle]))
        self.reset_button = W.Button(description="Reset to original", icon="undo")
        self.changes = W.HTML()
        self.check_pii = check_pii
        self.pii = W.HTML()
        self.panel = CriteriaPanel(rubric=self.rubric)
        self._debounce = Debouncer(self.update, debounce)
        self.baseline = score(self.original, self.rubric)
        self.assessment = self.baseline
        super().__init__(
            children=[
                W.HTML(STYLE + "<b>Edit the case</b> (rescored as you type)"),
                self.error,
                self.text,
                W.HBox([self.jurisdiction, self.reset_button]),
                W.HTML(
                    "<b>Facts</b> — force a criterion on or off instead of reading it from the text"
                ),
                W.VBox(rows),
                self.changes,
                self.pii,
                self.panel,
            ],
            **kwargs,
        )
        self.add_class("ck-what-if")
        self.text.observe(lambda _: self._debounce(), names="value")
        self.jurisdiction.observe(lambda _: self.update(), names="value")
        for toggle in self.facts.values():
            toggle.observe(lambda _: self.update(), names="value")
        self.reset_button.on_click(lambda _: self.reset())
        self.update()

    def current(self) -> Vignette:
        """The edited case as a Vignette."""
        facts = {cid: t.value == FORCE_ON for cid, t in self.facts.items() if t.value != FROM_TEXT}
        return dataclasses.replace(
            self.original, text=self.text.value, jurisdiction=self.jurisdiction.value, facts=facts
        )

    def flush(self) -> None:
        """Rescore now if a debounced text edit is pending."""
        self._debounce.flush()

    def update(self) -> None:
        """Rescore the edited case and redraw the panel and the change list."""
        self._debounce.cancel()
        with self.error.catching():
            vignette = self.current()
            self.assessment = score(vignette, self.rubric)
            self.panel.show(vignette, self.assessment, self.rubric)
            self.changes.value = changes_html(self.baseline, self.assessment, self.rubric)
            if self.check_pii:
                self.pii.value = pii_html(vignette.text)

    def reset(self) -> None:
        with self.hold_trait_notifications():
            self.text.value = self.original.text
            self.jurisdiction.value = self.original.jurisdiction
            for cid, toggle in self.facts.items():
                given = self.original.facts.get(cid)
                toggle.value = FROM_TEXT if given is None else (FORCE_ON if given else FORCE_OFF)
        self.update()
